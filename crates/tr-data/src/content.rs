//! The content rule: which labels of a sequence are its text.

use crate::vocab::{Vocabulary, END, PAD, START};

/// What one label does when a sequence is read as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A character of the text.
    Text,
    /// Not text, reading goes on (`<S>`, `<B>`, other special tokens).
    Skip,
    /// The text ends here (`<E>`, `<P>`).
    Stop,
}

/// The content rule of one vocabulary, precomputed per label.
///
/// Targets are laid out `<S>? text <E>? <P>*` (see
/// [`crate::Vocabulary::encode_padded`]), and every reader of model output —
/// training metrics, sample pictures, inference — must agree on what text a
/// label sequence stands for. One rule, here, for all of them:
///
/// * `<S>` is skipped;
/// * reading stops at the first `<E>` **or** `<P>`: both end a line
///   (padding only ever follows the text, and greedy seq2seq decoding pads
///   after either), so nothing after them is text;
/// * every other special token (`<B>`, any `<X>`) is skipped;
/// * everything else is text, including labels outside the vocabulary
///   (spelling them is an error the caller reports with the position).
///
/// Before this rule had one home, training stopped at `<P>` but inference
/// and [`crate::Vocabulary::decode`] skipped it and read on (`a <P> b` was
/// "a" in the metrics and "ab" in `htr predict`), and a CTC output `a <E> b`
/// was "ab" in the metrics and "a" in `htr predict`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentRule {
    roles: Vec<Role>,
}

impl ContentRule {
    /// The rule for labels of `vocab` (see the module docs).
    pub fn of(vocab: &Vocabulary) -> Self {
        let stops = [vocab.token_index(END), vocab.token_index(PAD)];
        let start = vocab.token_index(START);
        let roles = (0..vocab.len() as u32)
            .map(|l| {
                if stops.contains(&Some(l)) {
                    Role::Stop
                } else if Some(l) == start || vocab.is_special(l) {
                    Role::Skip
                } else {
                    Role::Text
                }
            })
            .collect();
        Self { roles }
    }

    /// The role of `label`; labels outside the vocabulary are [`Role::Text`].
    pub fn role(&self, label: u32) -> Role {
        self.roles
            .get(label as usize)
            .copied()
            .unwrap_or(Role::Text)
    }

    /// Positions in `labels` of the text's labels, in order.
    pub fn positions<'a>(&'a self, labels: &'a [u32]) -> impl Iterator<Item = usize> + 'a {
        labels
            .iter()
            .map(|&l| self.role(l))
            .take_while(|&r| r != Role::Stop)
            .enumerate()
            .filter(|&(_, r)| r == Role::Text)
            .map(|(i, _)| i)
    }

    /// The text's labels of `labels`.
    pub fn content(&self, labels: &[u32]) -> Vec<u32> {
        self.positions(labels).map(|i| labels[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &Vocabulary, parts: &[&str]) -> Vec<u32> {
        parts
            .iter()
            .map(|p| {
                v.token_index(p)
                    .or_else(|| p.chars().next().and_then(|c| v.char_index(c)))
                    .unwrap_or(999)
            })
            .collect()
    }

    #[test]
    fn start_skipped_end_and_padding_stop_other_specials_skipped() {
        let v = Vocabulary::emnist();
        let rule = ContentRule::of(&v);
        let text = |parts: &[&str]| v.decode(&rule.content(&labels(&v, parts))).unwrap();
        assert_eq!(text(&["<S>", "a", "b", "<E>", "c", "<P>"]), "ab");
        assert_eq!(text(&["a", "<P>", "b"]), "a");
        assert_eq!(text(&["a", "<E>", "b"]), "a");
        assert_eq!(text(&["<B>", "a", "<S>", "b"]), "ab");
        assert_eq!(text(&["<P>", "a"]), "");
        assert_eq!(rule.role(999), Role::Text);
        let l = labels(&v, &["<S>", "a", "<B>", "b", "<E>"]);
        assert_eq!(rule.positions(&l).collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn vocabulary_without_special_tokens_is_all_text() {
        let v = Vocabulary::digits();
        let rule = ContentRule::of(&v);
        assert_eq!(rule.content(&[0, 3, 9]), vec![0, 3, 9]);
    }
}
