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
/// The page's 2D plane draws real points dark (over the generated ones and the heat map, each with
/// a white rim) and generated ones in Okabe and Ito's orange with a dark rim, which stands out on
/// white, purple and green alike.
pub const REAL_ON_PLANE: Rgb = [20, 20, 20];
pub const GENERATED_ON_PLANE: Rgb = [230, 159, 0];
/// The ends of D's belief σ(D): ColorBrewer's purple–green (colour-blind safe), purple where D says
/// "generated" (0), green where it says "real" (1).
pub const BELIEF_FAKE: Rgb = [118, 42, 131];
pub const BELIEF_REAL: Rgb = [27, 120, 55];
/// Generated points in 2D views.
pub const GENERATED: Rgb = [37, 76, 209];

/// The colour of class `label` (labels beyond nine wrap around).
pub fn digit(label: u8) -> Rgb {
    DIGITS[usize::from(label) % DIGITS.len()]
}

/// D's belief `p` = σ(D) as a colour: white at 0.5, towards [`BELIEF_FAKE`] below and
/// [`BELIEF_REAL`] above. The distance from 0.5 is raised to the power 0.6, so the small leanings of
/// a D near equilibrium still show; the ends are dark enough (contrast ≥ 3:1 on white) that a
/// confident D reads at a glance. NaN reads as 0.5.
pub fn belief(p: f32) -> Rgb {
    let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.5 };
    let (end, t) = if p < 0.5 { (BELIEF_FAKE, 1.0 - 2.0 * p) } else { (BELIEF_REAL, 2.0 * p - 1.0) };
    let t = t.powf(0.6);
    end.map(|c| (255.0 + (f32::from(c) - 255.0) * t).round() as u8)
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

    /// WCAG's contrast ratio of a colour against white.
    fn contrast_on_white(colour: Rgb) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = 0.2126 * linear(colour[0]) + 0.7152 * linear(colour[1]) + 0.0722 * linear(colour[2]);
        1.05 / (luminance + 0.05)
    }

    /// Every class colour stands out from the white page: its relative luminance keeps a contrast
    /// ratio of at least 1.3 (WCAG's formula), so no dot disappears into the background.
    #[test]
    fn every_class_colour_shows_on_white() {
        for colour in DIGITS {
            let contrast = contrast_on_white(colour);
            assert!(contrast >= 1.3, "{} has contrast {contrast:.2} on white", css(colour));
        }
    }

    /// The heat map reads: a confident D at either end has WCAG's 3:1 for graphics against white
    /// (the earlier red and blue, and GAN Lab's pale purple and green, did not), equilibrium is
    /// white, and a D leaning only 0.6 is already tinted.
    #[test]
    fn beliefs_have_contrast() {
        assert_eq!(belief(0.5), [255, 255, 255]);
        assert_eq!(belief(f32::NAN), [255, 255, 255]);
        for end in [belief(0.0), belief(1.0)] {
            assert!(contrast_on_white(end) >= 3.0, "{} has contrast {:.2}", css(end), contrast_on_white(end));
        }
        for leaning in [0.4, 0.6] {
            assert!(contrast_on_white(belief(leaning)) >= 1.3, "σ(D) = {leaning} is {}", css(belief(leaning)));
        }
        let darker = |a: f32, b: f32| contrast_on_white(belief(a)) < contrast_on_white(belief(b));
        assert!(darker(0.6, 0.8) && darker(0.8, 1.0) && darker(0.4, 0.2) && darker(0.2, 0.0));
    }
}
