//! Number handling that must match the Python plugin bit for bit.

/// Python's `round(x, 6)` on a float: the decimal rounding of the exact binary
/// value to six places (ties to even), read back as the nearest double.
///
/// Non-finite values come back unchanged; the canonicalizer refuses them.
pub fn round6(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // `{:.6}` formats the exact binary value correctly rounded (ties to even);
    // parsing takes the nearest double, as CPython's `round` does.
    format!("{x:.6}").parse::<f64>().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_python() {
        // Values checked against CPython 3.11 `round(x, 6)`.
        assert_eq!(round6(0.9666666666666667), 0.966667);
        assert_eq!(round6(0.1234565), 0.123456); // binary value is below the tie
        assert_eq!(round6(0.1234575), 0.123457); // binary value is below the tie too
        assert_eq!(round6(2.5), 2.5);
        assert_eq!(round6(1e300), 1e300);
        assert_eq!(round6(-1e-7).to_bits(), (-0.0f64).to_bits());
        assert!(round6(f64::NAN).is_nan());
    }

    proptest::proptest! {
        #[test]
        fn idempotent_and_close(x in -1e12f64..1e12) {
            let r = round6(x);
            proptest::prop_assert_eq!(round6(r), r);
            proptest::prop_assert!((r - x).abs() <= 5e-7 * (1.0 + x.abs() * 1e-9));
        }
    }
}
