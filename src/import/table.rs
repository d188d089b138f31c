//! Reading an import file into a table of text cells: an Excel workbook's sheet through
//! `calamine`, or CSV text (UTF-8 with or without a byte-order mark, else Windows-1252, as Excel
//! on Windows saves "CSV") through the `csv` crate. Nothing here knows what the columns mean.

use crate::{Error, Result};

/// The most rows one import takes: a practice's whole history is far smaller, and a larger
/// file is more likely the wrong file than a registry.
pub const MAX_ROWS: usize = 200_000;

/// One data row's cells, trimmed, in one buffer (a large file holds a million cells: one
/// allocation per row, not per cell). A cell past the row's end reads as missing.
pub type Cells = csv::StringRecord;

/// A file's header row and its data rows, every cell trimmed text.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// A workbook's sheet names (none for CSV), and the one read.
    pub sheets: Vec<String>,
    pub sheet: Option<String>,
    pub headers: Vec<String>,
    /// Each data row with its row number as a spreadsheet shows it: the header is row 1, and a
    /// quoted cell spanning lines is still one row (blank lines are not rows).
    pub rows: Vec<(usize, Cells)>,
}

impl Table {
    /// The position of a header, compared without case or surrounding spaces.
    pub fn column(&self, header: &str) -> Option<usize> {
        let want = header.trim().to_lowercase();
        self.headers.iter().position(|h| h.trim().to_lowercase() == want)
    }
}

/// Decodes a file's bytes to text: UTF-8 (a leading byte-order mark dropped) when they are valid
/// UTF-8, else Windows-1252. UTF-16 and files with NUL bytes (a spreadsheet saved in another
/// format, or not a text file at all) are refused with what to do instead.
pub fn decode(file: &str, bytes: &[u8]) -> Result<String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::validation("file", format!("{file} is UTF-16 text; save it as \"CSV UTF-8\" and import that")));
    }
    if bytes.contains(&0) {
        return Err(Error::validation(
            "file",
            format!("{file} is not a text CSV file (it contains NUL bytes); save the sheet as CSV, or import the .xlsx itself"),
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(_) => Ok(encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()),
    }
}

/// Parses CSV text: the first row is the header. Rows may be shorter than the header (missing
/// cells are empty); a row longer than the header is an error naming it.
pub fn parse_csv(file: &str, text: &str) -> Result<Table> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        None => return Err(Error::validation("file", format!("{file} is empty: the first row must name the columns"))),
        Some(r) => r.map_err(|e| csv_error(file, &e))?.iter().map(|h| h.trim().to_string()).collect(),
    };
    if headers.iter().all(|h| h.is_empty()) {
        return Err(Error::validation("file", format!("{file} row 1: the first row must name the columns")));
    }
    let mut rows = Vec::new();
    for (index, record) in records.enumerate() {
        let record = record.map_err(|e| csv_error(file, &e))?;
        let line = index + 2;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > headers.len() {
            return Err(Error::validation(
                "file",
                format!("{file} row {line}: {} cells, but the header names {} columns", record.len(), headers.len()),
            ));
        }
        if rows.len() == MAX_ROWS {
            return Err(Error::validation(
                "file",
                format!("{file} has more than {MAX_ROWS} rows; split it into smaller files and import them one after another"),
            ));
        }
        let mut cells = record;
        cells.trim();
        rows.push((line, cells));
    }
    Ok(Table { sheets: Vec::new(), sheet: None, headers, rows })
}

/// Whether the bytes are a zip archive, as an `.xlsx` workbook is.
pub fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads an import file: a workbook's sheet (`sheet`, else the first) or CSV text.
pub fn read(file: &str, bytes: &[u8], sheet: Option<&str>) -> Result<Table> {
    if is_workbook(bytes) {
        return parse_xlsx(file, bytes, sheet);
    }
    parse_csv(file, &decode(file, bytes)?)
}

/// Reads a sheet of an `.xlsx` workbook. Title rows above the header (fewer than two filled
/// cells) are skipped; row numbers are the sheet's own. Dates become `YYYY-MM-DD`, whole
/// numbers lose their `.0`.
pub fn parse_xlsx(file: &str, bytes: &[u8], sheet: Option<&str>) -> Result<Table> {
    use calamine::Reader;
    let unreadable = |e: &dyn std::fmt::Display| Error::validation("file", format!("{file} is not a readable .xlsx workbook ({e})"));
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let sheets = book.sheet_names();
    let name = match sheet {
        Some(want) => sheets
            .iter()
            .find(|s| s.eq_ignore_ascii_case(want.trim()))
            .cloned()
            .ok_or_else(|| Error::validation("sheet", format!("{file} has no sheet \"{want}\"; its sheets: {}", sheets.join(", "))))?,
        None => sheets.first().cloned().ok_or_else(|| Error::validation("file", format!("{file} has no sheets")))?,
    };
    let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut rows = range.rows().enumerate().map(|(i, cells)| (first_row + i + 1, cells.iter().map(cell_text).collect::<Vec<String>>()));
    let Some((_, headers)) = rows.by_ref().find(|(_, cells)| cells.iter().filter(|c| !c.is_empty()).count() >= 2) else {
        return Err(Error::validation("file", format!("{file}, sheet {name}: no row names the columns")));
    };
    let mut table = Table { sheets: sheets.clone(), sheet: Some(name), headers, rows: Vec::new() };
    for (line, cells) in rows.filter(|(_, cells)| cells.iter().any(|c| !c.is_empty())) {
        if table.rows.len() == MAX_ROWS {
            return Err(Error::validation(
                "file",
                format!("{file} has more than {MAX_ROWS} rows; split it into smaller files and import them one after another"),
            ));
        }
        table.rows.push((line, cells.iter().map(String::as_str).collect()));
    }
    Ok(table)
}

/// A workbook cell as the text a CSV would hold.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn csv_error(file: &str, e: &csv::Error) -> Error {
    let row = e.position().map(|p| format!(" row {}", p.record() + 1)).unwrap_or_default();
    // The kind without its position (the message names the row itself).
    let what = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "text that is not UTF-8",
        _ => "malformed CSV",
    };
    Error::validation("file", format!("{file}{row}: not readable as CSV ({what})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_rows_are_padded_blank_rows_skipped_and_lines_counted_from_the_header() {
        let t = parse_csv("f.csv", "A,B,C\n1,2\n\n,,\n4,5,6\n").unwrap();
        assert_eq!(t.headers, ["A", "B", "C"]);
        // Rows: row 2 padded; the empty line is no row; row 3 (blank cells) skipped; row 4 kept.
        let rows: Vec<(usize, Vec<&str>)> = t.rows.iter().map(|(line, cells)| (*line, cells.iter().collect())).collect();
        assert_eq!(rows, [(2, vec!["1", "2"]), (4, vec!["4", "5", "6"])]);
        assert_eq!(t.rows[0].1.get(2), None, "a short row's missing cell");
        assert_eq!(t.column(" b "), Some(1));
    }

    #[test]
    fn windows_line_endings_count_rows_the_same() {
        let t = parse_csv("f.csv", "A,B\r\n1,2\r\n3,4\r\n").unwrap();
        assert_eq!(t.rows.iter().map(|(line, _)| *line).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn a_quoted_cell_keeps_its_commas_and_newlines() {
        let t = parse_csv("f.csv", "Note,N\n\"a, b\nc\",1\nd,2\n").unwrap();
        assert_eq!(t.rows[0].1.iter().collect::<Vec<_>>(), ["a, b\nc", "1"]);
        assert_eq!(t.rows[1].0, 3, "the two-line cell is one row, as a spreadsheet shows it");
    }

    #[test]
    fn an_empty_file_or_header_is_refused() {
        assert!(parse_csv("f.csv", "").unwrap_err().to_string().contains("f.csv is empty"));
        assert!(parse_csv("f.csv", ",,\n1,2,3\n").unwrap_err().to_string().contains("row 1"));
    }
}
