//! Edits of the hidden layers from the page's controls. A control names its layer by the position
//! it had when it was drawn; the layers can change in between (a lesson page's `set`, an imported
//! run, another control), so an edit whose position no longer exists is dropped instead of
//! indexing past the end.

use super::MAX_LAYERS;

/// One change to the list of hidden widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerEdit {
    /// Layer `index` gets this width (the URL parser then clamps it to 1..=[`MAX_WIDTH`](super::MAX_WIDTH) with a
    /// note, as it would a link's).
    Width { index: usize, width: usize },
    /// Layer `index` goes (the last one stays).
    Remove { index: usize },
    /// A layer as wide as the last is added (up to [`MAX_LAYERS`]).
    Add,
}

impl LayerEdit {
    /// The widths after the edit, or `None` when it no longer applies (a stale position, removing
    /// the only layer, adding past the limit).
    pub fn apply(self, widths: &[usize]) -> Option<Vec<usize>> {
        let mut edited = widths.to_vec();
        match self {
            LayerEdit::Width { index, width } => *edited.get_mut(index)? = width,
            LayerEdit::Remove { index } => {
                if index >= edited.len() || edited.len() <= 1 {
                    return None;
                }
                edited.remove(index);
            }
            LayerEdit::Add => {
                if edited.len() >= MAX_LAYERS {
                    return None;
                }
                edited.push(edited.last().copied().unwrap_or(64));
            }
        }
        Some(edited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_range() {
        assert_eq!(LayerEdit::Width { index: 1, width: 32 }.apply(&[64, 64]), Some(vec![64, 32]));
        assert_eq!(LayerEdit::Remove { index: 0 }.apply(&[256, 64]), Some(vec![64]));
        assert_eq!(LayerEdit::Add.apply(&[256, 64]), Some(vec![256, 64, 64]));
    }

    /// The control for layer 3 was drawn when there were three layers; a lesson page then set one.
    #[test]
    fn stale_positions_and_limits_are_dropped() {
        assert_eq!(LayerEdit::Width { index: 2, width: 32 }.apply(&[64]), None);
        assert_eq!(LayerEdit::Remove { index: 2 }.apply(&[64, 64]), None);
        assert_eq!(LayerEdit::Remove { index: 0 }.apply(&[64]), None, "the last layer stays");
        assert_eq!(LayerEdit::Add.apply(&[8; MAX_LAYERS]), None);
    }
}
