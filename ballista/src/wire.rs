//! The bytes a Grizzly UDF travels as: a tag, the function's name, its program.
//!
//! `GRIZZLY1`, the name's length (u32, little endian), the name, then the program to the
//! end, all UTF-8. The tag tells our definitions from those of the codec we wrap.

use datafusion::common::{plan_datafusion_err, Result};
use grizzly_datafusion::GrizzlyUdf;

const TAG: &[u8; 8] = b"GRIZZLY1";

/// The definition of `udf`.
pub fn encode(udf: &GrizzlyUdf, buf: &mut Vec<u8>) -> Result<()> {
    let name = udf.declaration().name.as_bytes();
    let len = u32::try_from(name.len())
        .map_err(|_| plan_datafusion_err!("Grizzly function name too long to ship"))?;
    buf.extend_from_slice(TAG);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(name);
    buf.extend_from_slice(udf.program().as_bytes());
    Ok(())
}

/// Whether `buf` holds a Grizzly definition (else it belongs to the wrapped codec).
pub fn is_grizzly(buf: &[u8]) -> bool {
    buf.starts_with(TAG)
}

/// The UDF `buf` defines, built (and its program checked) here. `expected` is the
/// name the plan calls it by.
pub fn decode(expected: &str, buf: &[u8]) -> Result<GrizzlyUdf> {
    let corrupt =
        || plan_datafusion_err!("Grizzly function '{expected}': its shipped definition is corrupt");
    let rest = buf.strip_prefix(TAG.as_slice()).ok_or_else(corrupt)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| corrupt())?;
    if rest.len() < len {
        return Err(corrupt());
    }
    let (name, program) = rest.split_at(len);
    let name = std::str::from_utf8(name).map_err(|_| corrupt())?;
    let program = std::str::from_utf8(program).map_err(|_| corrupt())?;
    if name != expected {
        return Err(plan_datafusion_err!(
            "Grizzly function '{expected}': the plan ships the definition of '{name}'"
        ));
    }
    GrizzlyUdf::new(program, name).map_err(|e| {
        plan_datafusion_err!(
            "Grizzly function '{name}' does not build here:\n{}",
            e.report()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAM: &str = "FUNCTION twice(x: int) RETURNS int => x * 2\n\
                           FUNCTION label(x: int) RETURNS string => IF twice(x) > 10 { \"big\" } ELSE { \"small\" }";

    #[test]
    fn a_definition_comes_back_as_the_same_udf() {
        let udf = GrizzlyUdf::new(PROGRAM, "label").unwrap();
        let mut buf = Vec::new();
        encode(&udf, &mut buf).unwrap();
        assert!(is_grizzly(&buf));
        assert_eq!(decode("label", &buf).unwrap(), udf);
    }

    #[test]
    fn every_truncation_of_a_definition_is_an_error_or_another_valid_program() {
        let udf = GrizzlyUdf::new(PROGRAM, "label").unwrap();
        let mut buf = Vec::new();
        encode(&udf, &mut buf).unwrap();
        // Cutting into the header or the name is always caught; cutting the program
        // leaves a program that must fail to check (it loses `label`'s body).
        for cut in 0..buf.len() {
            assert!(decode("label", &buf[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_definition_under_another_name_is_refused() {
        let udf = GrizzlyUdf::new(PROGRAM, "twice").unwrap();
        let mut buf = Vec::new();
        encode(&udf, &mut buf).unwrap();
        let err = decode("label", &buf).unwrap_err().to_string();
        assert!(err.contains("ships the definition of 'twice'"), "{err}");
    }

    #[test]
    fn bytes_without_the_tag_are_not_ours() {
        assert!(!is_grizzly(b""));
        assert!(!is_grizzly(b"GRIZZLY0\0\0\0\0"));
        assert!(decode("f", b"\x0a\x03abc").is_err());
    }
}
