//! Compressed sparse rows: adjacency lists flattened into one vector plus offsets.

/// Adjacency lists stored as one flat vector and row offsets. Built once by `build()`, so the
/// hot loops (evaluation, blast radius) walk contiguous slices instead of chasing a `Vec` per
/// node or hashing ids.
#[derive(Debug, Clone)]
pub(crate) struct Csr {
    start: Vec<usize>,
    items: Vec<usize>,
}

impl Csr {
    pub(crate) fn from_lists(lists: &[Vec<usize>]) -> Self {
        let mut start = Vec::with_capacity(lists.len() + 1);
        let mut items = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        start.push(0);
        for list in lists {
            items.extend_from_slice(list);
            start.push(items.len());
        }
        Csr { start, items }
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.start.len() - 1
    }

    pub(crate) fn row(&self, i: usize) -> &[usize] {
        &self.items[self.start[i]..self.start[i + 1]]
    }

    /// The reversed relation over `columns` nodes: row j lists every i whose row holds j,
    /// in increasing i.
    pub(crate) fn transpose(&self, columns: usize) -> Self {
        let mut start = vec![0; columns + 1];
        for &j in &self.items {
            start[j + 1] += 1;
        }
        for j in 0..columns {
            start[j + 1] += start[j];
        }
        let mut next = start.clone();
        let mut items = vec![0; self.items.len()];
        for i in 0..self.rows() {
            for &j in self.row(i) {
                items[next[j]] = i;
                next[j] += 1;
            }
        }
        Csr { start, items }
    }
}
