//! Query results, shaped like `GetQueryResults` and stored compactly.

use serde::Serialize;

/// Query statistics, as `GetQueryResults` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub records_scanned: u64,
    pub records_matched: u64,
    pub bytes_scanned: u64,
}

/// What a query returns: rows of `(field, value)` pairs in column order, as `GetQueryResults`,
/// each row leaving out its missing values.
///
/// Every value's text lives in one buffer, so a result costs about its text plus nine bytes a
/// cell, not an allocation per value: a `stats` over a wave's worth of flows has tens of
/// thousands of rows, and the result is the largest thing such a query holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResult {
    columns: Vec<String>,
    /// The text of every present value, one after another.
    text: String,
    /// Where cell `i`'s text ends (cells are row-major, one per row and column); it starts
    /// where cell `i - 1`'s ends.
    ends: Vec<usize>,
    /// Whether cell `i` has a value.
    present: Vec<bool>,
    rows: usize,
    pub statistics: Statistics,
}

impl QueryResult {
    /// An empty result with these columns; add rows with [`QueryResult::push_row`].
    pub fn new(columns: Vec<String>) -> Self {
        QueryResult { columns, ..QueryResult::default() }
    }

    /// Appends a row: one value per column, `None` where the row has none. Extra values are
    /// ignored and missing trailing ones are `None`.
    pub fn push_row<S: AsRef<str>>(&mut self, values: impl IntoIterator<Item = Option<S>>) {
        let mut values = values.into_iter();
        for _ in 0..self.columns.len() {
            let value = values.next().flatten();
            if let Some(v) = &value {
                self.text.push_str(v.as_ref());
            }
            self.present.push(value.is_some());
            self.ends.push(self.text.len());
        }
        self.rows += 1;
    }

    /// Makes room for `rows` more rows, so a large result is not copied as it grows.
    pub fn reserve(&mut self, rows: usize) {
        let cells = rows.saturating_mul(self.columns.len());
        self.ends.reserve(cells);
        self.present.reserve(cells);
    }

    /// Every column a row may have, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `i`, if there is one.
    pub fn row(&self, i: usize) -> Option<ResultRow<'_>> {
        (i < self.rows).then(|| ResultRow { result: self, first: i * self.columns.len() })
    }

    /// The rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = ResultRow<'_>> + DoubleEndedIterator {
        (0..self.rows).map(|i| ResultRow { result: self, first: i * self.columns.len() })
    }

    /// The value of `field` in row `row`, if present.
    pub fn get(&self, row: usize, field: &str) -> Option<&str> {
        self.row(row)?.get(field)
    }

    fn cell(&self, i: usize) -> Option<&str> {
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        self.present[i].then(|| &self.text[start..self.ends[i]])
    }
}

/// One row of a [`QueryResult`].
#[derive(Debug, Clone, Copy)]
pub struct ResultRow<'a> {
    result: &'a QueryResult,
    /// Index of the row's first cell.
    first: usize,
}

impl<'a> ResultRow<'a> {
    /// The row's value in each column, in order (`None` where it has none).
    pub fn values(self) -> impl ExactSizeIterator<Item = Option<&'a str>> {
        let r = self.result;
        (self.first..self.first + r.columns.len()).map(move |i| r.cell(i))
    }

    /// The row's present values with their column names, as `GetQueryResults` lists them.
    pub fn fields(self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.result.columns.iter().zip(self.values()).filter_map(|(c, v)| Some((c.as_str(), v?)))
    }

    /// The value of `field`, if the result has that column and the row a value in it.
    pub fn get(self, field: &str) -> Option<&'a str> {
        let c = self.result.columns.iter().position(|c| c == field)?;
        self.result.cell(self.first + c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_values_empty_text_and_missing_apart() {
        let mut r = QueryResult::new(vec!["a".into(), "b".into(), "c".into()]);
        r.push_row([Some("1"), None, Some("")]);
        r.push_row([Some("xy"), Some("z")]);
        assert_eq!(r.len(), 2);
        let rows: Vec<Vec<_>> = r.rows().map(|row| row.fields().collect()).collect();
        assert_eq!(rows, [vec![("a", "1"), ("c", "")], vec![("a", "xy"), ("b", "z")]]);
        assert_eq!(r.get(0, "b"), None);
        assert_eq!(r.get(1, "b"), Some("z"));
        assert_eq!(r.get(1, "nope"), None);
        assert_eq!(r.get(2, "a"), None);
        assert_eq!(r.row(1).unwrap().values().collect::<Vec<_>>(), [Some("xy"), Some("z"), None]);
    }

    #[test]
    fn a_result_without_columns_still_counts_its_rows() {
        let mut r = QueryResult::default();
        r.push_row::<&str>([]);
        assert_eq!(r.len(), 1);
        assert_eq!(r.row(0).unwrap().fields().count(), 0);
    }
}
