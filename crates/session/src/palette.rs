//! Colours the page and the command line share, so that a screenshot and a figure of the same run
//! read alike.

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// One colour per digit class, 0 to 9: Paul Tol's "muted" qualitative scheme, chosen to stay
/// distinct for the common colour-vision deficiencies and on white, plus a dark grey for the
/// tenth class (the scheme has nine; its own pale grey is meant for missing data and vanishes on
/// white). Tableau 10, used before, puts red next to green and orange next to brown.
pub const DIGITS: [Rgb; 10] = [
    [0x33, 0x22, 0x88], // indigo
    [0x88, 0xcc, 0xee], // cyan
    [0x44, 0xaa, 0x99], // teal
    [0x11, 0x77, 0x33], // green
    [0x99, 0x99, 0x33], // olive
    [0xdd, 0xcc, 0x77], // sand
    [0xcc, 0x66, 0x77], // rose
    [0x88, 0x22, 0x55], // wine
    [0xaa, 0x44, 0x99], // purple
    [0x55, 0x55, 0x55], // dark grey
];

/// Real data points in 2D views.
pub const REAL: Rgb = [150, 150, 150];
/// Generated points in 2D views.
pub const GENERATED: Rgb = [37, 76, 209];

/// The colour of class `label` (labels beyond nine wrap around).
pub fn digit(label: u8) -> Rgb {
    DIGITS[usize::from(label) % DIGITS.len()]
}

/// `#rrggbb`, for CSS.
pub fn css(colour: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", colour[0], colour[1], colour[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_is_hex() {
        assert_eq!(css(DIGITS[0]), "#332288");
        assert_eq!(digit(13), DIGITS[3]);
    }

    /// Every class colour stands out from the white page: its relative luminance keeps a contrast
    /// ratio of at least 1.3 (WCAG's formula), so no dot disappears into the background.
    #[test]
    fn every_class_colour_shows_on_white() {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        for colour in DIGITS {
            let luminance = 0.2126 * linear(colour[0]) + 0.7152 * linear(colour[1]) + 0.0722 * linear(colour[2]);
            let contrast = 1.05 / (luminance + 0.05);
            assert!(contrast >= 1.3, "{} has contrast {contrast:.2} on white", css(colour));
        }
    }
}
