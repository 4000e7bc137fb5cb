//! ASCII-mode downloads (TYPE A with ascii_download_enable): every LF not already preceded by a
//! CR becomes CRLF, as vsftpd 3 does; CRLF and a bare CR pass unchanged. The conversion is a
//! stream: the state (was the last byte a CR?) carries over from one buffer to the next, so a
//! CRLF split across two reads is still left alone and no file is ever held whole in memory.

/// The converter's state between two buffers of one transfer.
#[derive(Debug, Default)]
pub struct ToAscii {
    prev_cr: bool,
}

impl ToAscii {
    pub fn new() -> ToAscii {
        ToAscii::default()
    }

    /// Appends `input`, converted, to `out` (at most twice `input.len()` bytes).
    pub fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() * 2);
        let mut prev_cr = self.prev_cr;
        for &b in input {
            if b == b'\n' && !prev_cr {
                out.push(b'\r');
            }
            out.push(b);
            prev_cr = b == b'\r';
        }
        self.prev_cr = prev_cr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_in_chunks(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut c = ToAscii::new();
        let mut out = Vec::new();
        for part in input.chunks(chunk) {
            c.convert(part, &mut out);
        }
        out
    }

    #[test]
    fn lf_becomes_crlf_and_crlf_stays() {
        assert_eq!(
            convert_in_chunks(b"a\nb\r\nc\rd\n\n", 100),
            b"a\r\nb\r\nc\rd\r\n\r\n"
        );
        assert_eq!(convert_in_chunks(b"", 1), b"");
        assert_eq!(convert_in_chunks(b"\n", 1), b"\r\n");
        assert_eq!(convert_in_chunks(b"\r", 1), b"\r");
    }

    #[test]
    fn split_crlf_is_not_doubled() {
        let input = b"line one\r\nline two\nthree\r\r\n\n";
        let whole = convert_in_chunks(input, input.len());
        for chunk in 1..input.len() {
            assert_eq!(convert_in_chunks(input, chunk), whole, "chunk {chunk}");
        }
        assert_eq!(whole, b"line one\r\nline two\r\nthree\r\r\n\r\n");
    }
}
