//! Levenshtein edit distance between label sequences.

/// Minimum number of insertions, deletions and substitutions turning
/// `hypothesis` into `reference` (O(|a|·|b|) time, O(|b|) memory).
pub fn edit_distance<T: PartialEq>(hypothesis: &[T], reference: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=reference.len()).collect();
    let mut cur = vec![0; reference.len() + 1];
    for (i, h) in hypothesis.iter().enumerate() {
        cur[0] = i + 1;
        for (j, r) in reference.iter().enumerate() {
            let substitute = prev[j] + usize::from(h != r);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[reference.len()]
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    fn ed(a: &str, b: &str) -> usize {
        edit_distance(
            &a.chars().collect::<Vec<_>>(),
            &b.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn known_distances() {
        assert_eq!(ed("kitten", "sitting"), 3);
        assert_eq!(ed("", "abc"), 3);
        assert_eq!(ed("abc", ""), 3);
        assert_eq!(ed("abc", "abc"), 0);
        assert_eq!(ed("flaw", "lawn"), 2);
        assert_eq!(ed("ab", "ba"), 2);
        assert_eq!(ed("intention", "execution"), 5);
    }
}
