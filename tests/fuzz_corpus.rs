//! The fuzz targets on stable Rust (issue #5): every committed seed of fuzz/corpus/<target>/,
//! then a bounded number of inputs mutated from those seeds by a deterministic xorshift
//! generator. The entry points and their invariants are in `src/fuzzing.rs`; cargo-fuzz runs
//! the same functions for as long as you like (see fuzz/README.md).
//!
//! `FUZZ_ITERATIONS=N` changes the number of generated inputs per target (default below);
//! `FUZZ_SEED=N` starts the generator elsewhere. A failing input is written to
//! `<CARGO_TARGET_TMPDIR>/fuzz-failure-<target>` and its bytes are printed, so that it can be
//! added to the corpus once fixed.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use vsftpd_rs::fuzzing;

/// One fuzz target: its name (= fuzz/fuzz_targets/<name>.rs = fuzz/corpus/<name>/), its entry
/// point, how many generated inputs to run by default, the largest generated input, and tokens
/// the mutator splices in.
struct Target {
    name: &'static str,
    run: fn(&[u8]),
    iterations: usize,
    max_len: usize,
    tokens: &'static [&'static [u8]],
}

const COMMAND_TOKENS: &[&[u8]] = &[
    b"USER ",
    b"PASS ",
    b"SITE ",
    b"CHMOD ",
    b"UMASK ",
    b"HELP",
    b"XPWD",
    b"P@SW",
    b"GET ",
    b"OPTIONS",
    b"RETR ",
    b"PORT ",
    b"EPRT ",
    b" ",
    b"  ",
    b"\xff",
    b"\0",
    b"\r",
    b"site chmod ",
];

const LINE_TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\xff\xff",
    b"\xff\xf4\xff\xf2",
    b"\xff\xfb",
    b"\xff\xfd\n",
    b"\xff\n",
    b"\0",
    b"\r\r\n",
    b"NOOP\r\n",
    b"\xff",
];

const ADDRESS_TOKENS: &[&[u8]] = &[
    b",",
    b"|",
    b"|1|",
    b"|2|",
    b"255",
    b"256",
    b"0",
    b"00",
    b"::",
    b"::ffff:",
    b"%",
    b".",
    b"ALL",
    b"65535",
    b"65536",
    b"1.2.3.4",
    b"fe80::1%eth0",
];

const CONF_TOKENS: &[&[u8]] = &[
    b"\n",
    b"=",
    b"YES",
    b"NO",
    b"#",
    b" ",
    b"\t",
    b"0",
    b"077",
    b"anonymous_enable=",
    b"local_enable=",
    b"listen=YES\nlisten_ipv6=YES\n",
    b"pasv_min_port=",
    b"pasv_max_port=",
    b"pasv_address=",
    b"pasv_addr_resolve=YES\n",
    b"ftpd_banner=",
    b"local_umask=",
    b"ftp_username=",
    b"\"",
    b"[x]",
    b" = true\n",
    b"0o22",
    b"\xc3\xa9",
    b"\xff",
];

const PRIVSEP_TOKENS: &[&[u8]] = &[
    b"\x01\x11",
    b"\x01\x21",
    b"\x01\x22",
    b"\x01\x31",
    b"\x01\x32",
    b"\x01\x33\x04",
    b"\x01\x33\x06",
    b"\x01\x41",
    b"\x01\x42",
    b"\x01\x43",
    b"\x00\x80",
    b"\x00\x81",
    b"\xff\xff",
];

const PROXY_TOKENS: &[&[u8]] = &[
    b"PROXY ",
    b"TCP4 ",
    b"TCP6 ",
    b"UNKNOWN",
    b"\r\n",
    b"\r\n\r\n\0\r\nQUIT\n",
    b"\x21\x11\x00\x0c",
    b"\x21\x21\x00\x24",
    b"\x20\x00\x00\x00",
    b"\x21\x31",
    b"\xff\xff",
    b"127.0.0.1",
    b"::ffff:",
    b"65535",
    b"0",
    b"00",
    b" ",
];

const TARGETS: &[Target] = &[
    Target {
        name: "command_line",
        run: fuzzing::command_line,
        iterations: 100_000,
        max_len: 300,
        tokens: COMMAND_TOKENS,
    },
    Target {
        name: "line_reader",
        run: fuzzing::line_reader,
        iterations: 20_000,
        max_len: 10_000,
        tokens: LINE_TOKENS,
    },
    Target {
        name: "addresses",
        run: fuzzing::addresses,
        iterations: 100_000,
        max_len: 200,
        tokens: ADDRESS_TOKENS,
    },
    Target {
        name: "conf_text",
        run: fuzzing::conf_text,
        iterations: 2_000,
        max_len: 4_000,
        tokens: CONF_TOKENS,
    },
    Target {
        name: "privsep_messages",
        run: fuzzing::privsep_messages,
        iterations: 50_000,
        max_len: 1_100,
        tokens: PRIVSEP_TOKENS,
    },
    Target {
        name: "proxy_header",
        run: fuzzing::proxy_header,
        iterations: 50_000,
        max_len: 300,
        tokens: PROXY_TOKENS,
    },
];

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 32) as u8
    }
}

/// Bytes the mutator prefers: boundaries and separators of the formats under test.
const INTERESTING: &[u8] = &[
    0, 1, b'\t', b'\n', b'\r', b' ', b'"', b'#', b',', b'-', b'.', b'0', b'1', b'9', b':', b'=',
    b'[', b'|', 0x7f, 0x80, 0xf0, 0xf4, 0xfb, 0xfe, 0xff,
];

/// One input derived from the seeds: a seed, changed by one to eight mutations.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], target: &Target) -> Vec<u8> {
    let mut data = match seeds.len() {
        0 => Vec::new(),
        n => seeds[rng.below(n)].clone(),
    };
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        match rng.below(10) {
            // Flip a bit.
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            // Replace a byte by an interesting or random one.
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.byte()
                };
            }
            // Insert bytes.
            2 => {
                let i = rng.below(len + 1);
                let b = INTERESTING[rng.below(INTERESTING.len())];
                let most = if rng.below(8) == 0 { 5000 } else { 4 };
                let n = 1 + rng.below(most);
                data.splice(i..i, std::iter::repeat_n(b, n));
            }
            // Delete a range.
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                data.drain(i..i + n);
            }
            // Duplicate a range.
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let piece = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, piece);
            }
            // Splice in a token.
            5 | 6 => {
                let token = target.tokens[rng.below(target.tokens.len())];
                let i = rng.below(len + 1);
                data.splice(i..i, token.iter().copied());
            }
            // Cross over with another seed.
            7 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let to = from + rng.below(other.len() - from + 1);
                let i = rng.below(len + 1);
                data.splice(i..i, other[from..to].iter().copied());
            }
            // Truncate.
            8 if len > 0 => data.truncate(rng.below(len)),
            // Random bytes.
            _ => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let fresh: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                data.splice(i..i, fresh);
            }
        }
    }
    data.truncate(target.max_len);
    data
}

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name)
}

fn seeds(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(name);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Runs one input; on a panic, saves and prints it and fails the test.
fn run_one(target: &Target, what: &str, data: &[u8]) {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(data)));
    if let Err(cause) = outcome {
        let message = cause
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| cause.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let saved =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-failure-{}", target.name));
        let _ = std::fs::write(&saved, data);
        panic!(
            "{} failed on {what}: {message}\ninput ({} bytes, saved to {}): \"{}\"",
            target.name,
            data.len(),
            saved.display(),
            data.escape_ascii()
        );
    }
}

fn run_target(name: &str) {
    let target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .expect("target in TARGETS");
    let seeds = seeds(name);
    assert!(!seeds.is_empty(), "fuzz/corpus/{name}/ has no seed files");
    for (path, bytes) in &seeds {
        assert!(bytes.len() <= 16 * 1024, "{path}: seeds stay small");
        run_one(target, path, bytes);
    }
    let seed_bytes: Vec<Vec<u8>> = seeds.into_iter().map(|(_, b)| b).collect();
    let iterations = env_number("FUZZ_ITERATIONS").map_or(target.iterations, |n| n as usize);
    let start = env_number("FUZZ_SEED").unwrap_or(0x5eed_f00d_u64) | 1;
    // Each target its own stream, so adding a target changes no other's inputs.
    let salt = name
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b));
    let mut rng = Rng((start ^ salt.rotate_left(17)) | 1);
    for i in 0..iterations {
        let data = mutate(&mut rng, &seed_bytes, target);
        run_one(target, &format!("generated input {i}"), &data);
    }
}

#[test]
fn command_line() {
    run_target("command_line");
}

#[test]
fn line_reader() {
    run_target("line_reader");
}

#[test]
fn addresses() {
    run_target("addresses");
}

#[test]
fn conf_text() {
    run_target("conf_text");
}

#[test]
fn privsep_messages() {
    run_target("privsep_messages");
}

#[test]
fn proxy_header() {
    run_target("proxy_header");
}

/// The cargo-fuzz crate runs the same entry points: one fuzz_targets/<name>.rs and one [[bin]]
/// per target, each calling `vsftpd_rs::fuzzing::<name>`; and the fuzz crate stays out of the
/// main crate's build (its own workspace).
#[test]
fn cargo_fuzz_targets_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    assert!(
        manifest.contains("[workspace]"),
        "fuzz/ must be its own workspace"
    );
    assert!(manifest.contains("cargo-fuzz = true"));
    for t in TARGETS {
        let file = root
            .join("fuzz/fuzz_targets")
            .join(format!("{}.rs", t.name));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("vsftpd_rs::fuzzing::{}(", t.name)),
            "{} does not call vsftpd_rs::fuzzing::{}",
            file.display(),
            t.name
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", t.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            t.name
        );
    }
    let targets = std::fs::read_dir(root.join("fuzz/fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .count();
    assert_eq!(
        targets,
        TARGETS.len(),
        "a fuzz target the stable runner does not run"
    );
}

/// `Loader::load_text` (what `conf_text` fuzzes) reads text exactly as `Loader::load_file`
/// reads a file: same settings, same errors, for every conf_text seed as key=value and as TOML.
#[test]
fn load_text_matches_load_file() {
    use vsftpd_rs::config::{Layout, Loader};

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fuzz-corpus-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let outcome = |r: Result<vsftpd_rs::config::Settings, vsftpd_rs::config::ConfigError>| {
        r.map(|s| (s.config, s.warnings)).map_err(|e| e.to_string())
    };
    let mut compared = 0;
    for (seed, bytes) in seeds("conf_text") {
        for ext in ["conf", "toml"] {
            let path = dir.join(format!("seed.{ext}"));
            std::fs::write(&path, &bytes).expect("write seed");
            let mut from_file = Loader::new(Layout::Upstream);
            let file = from_file.load_file(&path).and_then(|()| from_file.finish());
            let mut from_text = Loader::new(Layout::Upstream);
            let name = path.to_str().expect("UTF-8 temp path");
            let text = from_text
                .load_text(name, &bytes)
                .and_then(|()| from_text.finish());
            assert_eq!(outcome(file), outcome(text), "{seed} as .{ext}");
            compared += 1;
        }
    }
    assert!(compared >= 20);
    // Too big is too big either way.
    let big = vec![b'#'; 100 * 1024 + 1];
    let mut loader = Loader::new(Layout::Upstream);
    let err = loader
        .load_text("big.conf", &big)
        .expect_err("over the size limit");
    assert!(err.to_string().contains("file too big"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
