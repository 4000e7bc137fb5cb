//! Unpredictable numbers for choices an attacker must not guess (the passive port).
//!
//! Not std's `RandomState`: its keys are drawn once per thread and then only incremented, so
//! every session forked from the listener would make the same "random" choice.

use std::time::{SystemTime, UNIX_EPOCH};

/// 64 bits from getrandom(2). Never blocks: should the kernel's pool not be ready (early
/// boot) or the call be missing, it falls back to the clock and pid, which still differ
/// between sessions.
pub fn u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if usize::try_from(n).ok() == Some(buf.len()) {
        return u64::from_ne_bytes(buf);
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Truncation is fine: only the low, fast-moving bits matter here.
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    // One round of splitmix64, so nearby inputs land far apart.
    let z = mixed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ() {
        // 64 random bits repeat by chance once in 2^64 draws.
        assert_ne!(super::u64(), super::u64());
    }
}
