//! Flow-log objects in the S3 delivery's Parquet format (`….log.parquet`): one flat column per
//! field, named as the field with `_` for `-` (`account_id`, `pkt_srcaddr`), integers as
//! INT32 or INT64, everything else as UTF-8 byte arrays, a missing value as null.
//!
//! Only the columns the query reads are decoded ([`Executor::fields_read`]), a batch of rows
//! at a time. Each batch becomes the text lines those records have in a text object (`-` for
//! a null) and takes the text objects' path through the engine, so a query answers the same on
//! either format; a damaged row is named by its row number where a text line has its line.
//!
//! [`Executor::fields_read`]: wavegap_insights::Executor::fields_read

use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;
use wavegap_core::flowlog::FlowFormat;

use super::{FileCtx, RandomAccess, S3Name, S3State};

/// Rows turned into text at a time: a few MiB of text, whatever the row group's size.
const BATCH: usize = 16 * 1024;

/// Why the rest of a file could not be read: the row it stopped at (1-based) and what is wrong.
type Stop = (Option<u64>, String);

impl FileCtx<'_> {
    pub(super) fn read_parquet(&mut self, name: Option<&S3Name>) {
        let source = match self.store.open_random(self.path) {
            Ok(source) => source,
            Err(what) => return self.report.add(self.path, None, what),
        };
        let state = S3State::new(self.path, name);
        let read = match source {
            RandomAccess::File(file) => self.parquet_rows(file, &state),
            RandomAccess::Bytes(bytes) => self.parquet_rows(bytes, &state),
        };
        if let Err((row, what)) = read {
            self.report.add(self.path, row, what);
        }
    }

    fn parquet_rows<R: ChunkReader + 'static>(&mut self, source: R, state: &S3State) -> Result<(), Stop> {
        let file = SerializedFileReader::new(source)
            .map_err(|e| (None, format!("not a readable Parquet file ({e}); skipped")))?;
        let schema = file.metadata().file_metadata().schema_descr_ptr();
        let mut names = Vec::with_capacity(schema.num_columns());
        for i in 0..schema.num_columns() {
            let column = schema.column(i);
            if column.max_rep_level() > 0 || column.path().parts().len() != 1 {
                return Err((
                    None,
                    format!("column `{}` is nested, not a flow-log field; file skipped", column.path()),
                ));
            }
            names.push(column.name().replace('_', "-"));
        }
        let Some(format) = self.fields_format(&names.join(" "), None, "schema") else { return Ok(()) };
        let read =
            self.exec.fields_read(&format).filter(|r| !r.is_empty()).unwrap_or_else(|| (0..format.len()).collect());
        let projected = FlowFormat::from_fields(read.iter().map(|&c| format.fields()[c].clone()).collect())
            .expect("distinct fields of a valid format");
        let mut text = Vec::with_capacity(BATCH * 96);
        let mut first_row = 1u64;
        for g in 0..file.num_row_groups() {
            let group = file.get_row_group(g).map_err(|e| corrupt(first_row, &e))?;
            let mut columns = read
                .iter()
                .map(|&c| {
                    Column::new(&schema.column(c), group.get_column_reader(c).map_err(|e| corrupt(first_row, &e))?)
                })
                .collect::<Result<Vec<_>, Stop>>()?;
            let mut left = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
            while left > 0 {
                let rows = BATCH.min(left);
                for column in &mut columns {
                    column.read(rows).map_err(|e| corrupt(first_row, &e))?;
                }
                if let Some(short) = columns.iter().find(|c| c.rows != rows) {
                    let what = format!(
                        "column `{}` has {} fewer rows than its row group says; rows before them were read",
                        short.name,
                        rows - short.rows
                    );
                    return Err((Some(first_row + short.rows as u64), what));
                }
                text.clear();
                for _ in 0..rows {
                    for (j, column) in columns.iter_mut().enumerate() {
                        if j > 0 {
                            text.push(b' ');
                        }
                        column.write_next(&mut text);
                    }
                    text.push(b'\n');
                }
                self.push_s3_lines(&text, first_row, &projected, state);
                first_row += rows as u64;
                left -= rows;
            }
        }
        Ok(())
    }
}

fn corrupt(row: u64, e: &parquet::errors::ParquetError) -> Stop {
    (Some(row), format!("the Parquet data is corrupt ({e}); rows before it were read"))
}

/// One column being read: a batch of its values and definition levels.
struct Column {
    name: String,
    values: Values,
    defs: Vec<i16>,
    max_def: i16,
    /// Rows in the batch, and the next row and value to write.
    rows: usize,
    row: usize,
    value: usize,
}

enum Values {
    Int32(ColumnReaderImpl<Int32Type>, Vec<i32>),
    Int64(ColumnReaderImpl<Int64Type>, Vec<i64>),
    Bytes(ColumnReaderImpl<ByteArrayType>, Vec<ByteArray>),
}

impl Column {
    fn new(descr: &ColumnDescriptor, reader: ColumnReader) -> Result<Column, Stop> {
        let values = match reader {
            ColumnReader::Int32ColumnReader(r) => Values::Int32(r, Vec::new()),
            ColumnReader::Int64ColumnReader(r) => Values::Int64(r, Vec::new()),
            ColumnReader::ByteArrayColumnReader(r) => Values::Bytes(r, Vec::new()),
            _ => {
                let what = format!(
                    "column `{}` is of type {}, not a flow-log field's (INT32, INT64 or a string); file skipped",
                    descr.name(),
                    descr.physical_type()
                );
                return Err((None, what));
            }
        };
        Ok(Column {
            name: descr.name().to_owned(),
            values,
            defs: Vec::new(),
            max_def: descr.max_def_level(),
            rows: 0,
            row: 0,
            value: 0,
        })
    }

    /// Reads the next `rows` rows (fewer at the end of the column's data).
    fn read(&mut self, rows: usize) -> parquet::errors::Result<()> {
        fn batch<T: parquet::data_type::DataType<T = V>, V>(
            reader: &mut ColumnReaderImpl<T>,
            rows: usize,
            defs: &mut Vec<i16>,
            values: &mut Vec<V>,
        ) -> parquet::errors::Result<usize> {
            defs.clear();
            values.clear();
            let mut total = 0;
            while total < rows {
                let (read, _, _) = reader.read_records(rows - total, Some(defs), None, values)?;
                if read == 0 {
                    break;
                }
                total += read;
            }
            Ok(total)
        }
        self.rows = match &mut self.values {
            Values::Int32(r, v) => batch(r, rows, &mut self.defs, v)?,
            Values::Int64(r, v) => batch(r, rows, &mut self.defs, v)?,
            Values::Bytes(r, v) => batch(r, rows, &mut self.defs, v)?,
        };
        self.row = 0;
        self.value = 0;
        Ok(())
    }

    /// Writes the next row's value as a text record has it: `-` when null or empty.
    fn write_next(&mut self, out: &mut Vec<u8>) {
        let present = self.max_def == 0 || self.defs.get(self.row).is_some_and(|&d| d == self.max_def);
        self.row += 1;
        if !present {
            out.push(b'-');
            return;
        }
        let i = self.value;
        self.value += 1;
        let mut number = itoa::Buffer::new();
        match &self.values {
            Values::Int32(_, v) => out.extend_from_slice(number.format(v[i]).as_bytes()),
            Values::Int64(_, v) => out.extend_from_slice(number.format(v[i]).as_bytes()),
            Values::Bytes(_, v) if v[i].data().is_empty() => out.push(b'-'),
            Values::Bytes(_, v) => out.extend_from_slice(v[i].data()),
        }
    }
}
