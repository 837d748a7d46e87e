//! Flow-log text objects rewritten as the S3 delivery's Parquet objects, for tests that compare
//! the two formats on the same records.
//!
//! The schema follows AWS's: one optional column per header field, named with `_` for `-`;
//! `version`, the ports, `tcp-flags` and `traffic-path` as INT32, `protocol`, `packets`,
//! `bytes`, `start` and `end` as INT64, every other field a UTF-8 string; `-` is null. Pages
//! are gzip-compressed, as AWS writes them.

use std::io::Read;
use std::sync::Arc;

use parquet::basic::{Compression, GzipLevel};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

const INT32: &[&str] = &["version", "srcport", "dstport", "tcp-flags", "traffic-path"];
const INT64: &[&str] = &["protocol", "packets", "bytes", "start", "end"];

/// The Parquet object holding the records of the flow-log text object `object` (gzip or
/// plain, header line first), `rows_per_group` rows to a row group.
pub fn from_text_object(object: &[u8], rows_per_group: usize) -> Vec<u8> {
    let mut text = String::new();
    if object.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(object).read_to_string(&mut text).expect("a gzip text object");
    } else {
        text = String::from_utf8(object.to_vec()).expect("a text object");
    }
    let mut lines = text.lines();
    let fields: Vec<&str> = lines.next().expect("a header line").split_ascii_whitespace().collect();
    let records: Vec<Vec<&str>> = lines.map(|l| l.split_ascii_whitespace().collect()).collect();
    let schema = fields
        .iter()
        .map(|f| {
            let name = f.replace('-', "_");
            if INT32.contains(f) {
                format!("optional int32 {name};")
            } else if INT64.contains(f) {
                format!("optional int64 {name};")
            } else {
                format!("optional binary {name} (UTF8);")
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let schema = Arc::new(parse_message_type(&format!("message flow_log {{ {schema} }}")).expect("a valid schema"));
    let props = WriterProperties::builder().set_compression(Compression::GZIP(GzipLevel::default())).build();
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, Arc::new(props)).expect("a writer");
    for group in records.chunks(rows_per_group.max(1)) {
        let mut rows = writer.next_row_group().expect("a row group");
        let mut col = 0;
        while let Some(mut column) = rows.next_column().expect("a column") {
            let values: Vec<Option<&str>> = group.iter().map(|r| r.get(col).copied().filter(|v| *v != "-")).collect();
            let defs: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
            let present = values.iter().flatten();
            if INT32.contains(&fields[col]) {
                let v: Vec<i32> = present.map(|v| v.parse().expect("an INT32 field")).collect();
                column.typed::<Int32Type>().write_batch(&v, Some(&defs), None).expect("written");
            } else if INT64.contains(&fields[col]) {
                let v: Vec<i64> = present.map(|v| v.parse().expect("an INT64 field")).collect();
                column.typed::<Int64Type>().write_batch(&v, Some(&defs), None).expect("written");
            } else {
                let v: Vec<ByteArray> = present.map(|v| ByteArray::from(*v)).collect();
                column.typed::<ByteArrayType>().write_batch(&v, Some(&defs), None).expect("written");
            }
            column.close().expect("closed");
            col += 1;
        }
        rows.close().expect("closed");
    }
    writer.into_inner().expect("finished")
}

/// The Parquet object's name for a text object's (`….log.gz` → `….log.parquet`).
pub fn object_name(text_name: &str) -> String {
    let base = text_name.strip_suffix(".gz").unwrap_or(text_name);
    format!("{base}.parquet")
}
