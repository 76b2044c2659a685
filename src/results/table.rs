//! CSV through serde. A row type is a struct whose fields are its columns
//! in order; [`header`] derives the header from the field names (a nested
//! struct adds its own fields in place, [`Causes`] one column per cause).
//! [`Writer`] and [`to_bytes`] write rows; [`Reader`] reads a file by the
//! names in its header, in any order and beside columns it does not know,
//! and turns a bad cell into an input error naming the file, line, column
//! and field.

use crate::error::{Error, InputError};
use crate::metrics::Cause;
use crate::time::Millis;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::ser::{self, Serialize, Serializer};
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

// ---- column types ----

/// A number written with `D` decimals, so the same results give the same
/// bytes (`0.999912345` with 9).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Fixed<const D: usize>(pub f64);

impl<const D: usize> fmt::Display for Fixed<D> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:.*}", D, self.0)
    }
}

impl<const D: usize> Serialize for Fixed<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:.*}", D, self.0))
    }
}

impl<'de, const D: usize> de::Deserialize<'de> for Fixed<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        parse_str(deserializer, |t| t.parse().map(Fixed).map_err(|_| format!("`{t}` is not a number")))
    }
}

/// A duration in seconds with millisecond precision, exactly: `123.456`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seconds(pub Millis);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{}.{:03}", self.0 / 1000, self.0 % 1000))
    }
}

impl<'de> de::Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parse_str(deserializer, |t| millis(t, u64::MAX).map(Seconds))
    }
}

/// Exact milliseconds from `seconds` written as `123.456` (up to three
/// decimals, ASCII digits only), at most `max_ms`.
pub fn millis(text: &str, max_ms: u64) -> Result<u64, String> {
    let not = || format!("`{text}` is not a number of seconds with at most 3 decimals");
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || frac.len() > 3 || !digits(frac) {
        return Err(not());
    }
    let frac: u64 = format!("{frac:0<3}").parse().map_err(|_| not())?;
    let ms = whole.parse::<u64>().ok().and_then(|w| w.checked_mul(1000)).and_then(|w| w.checked_add(frac));
    match ms {
        Some(ms) if ms <= max_ms => Ok(ms),
        Some(_) => Err(format!("`{text}` seconds is more than the run's horizon of {} s", max_ms / 1000)),
        None => Err(not()),
    }
}

/// For `#[serde(deserialize_with)]`: a count, ASCII digits only (no sign).
pub fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    parse_str(deserializer, |text| {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{text}` is not a count"));
        }
        text.parse().map_err(|_| format!("`{text}` is not a count (at most {})", u32::MAX))
    })
}

/// Deserializes a string with `parse`, whose error is the message.
pub fn parse_str<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct Text<F, T>(F, PhantomData<T>);
    impl<'de, F: FnOnce(&str) -> Result<T, String>, T> Visitor<'de> for Text<F, T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
            (self.0)(text).map_err(E::custom)
        }
    }
    deserializer.deserialize_str(Text(parse, PhantomData))
}

/// The unit of a row's cause columns: their names' pattern and what each holds.
pub trait CauseUnit {
    type Value: Serialize + DeserializeOwned + Copy + Default + fmt::Debug + PartialEq;
    /// The column of cause `{cause}` (its name with `_` for `-`).
    const COLUMN: &'static str;
}

/// Seconds in one replication: `no_node_s`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PerReplication;

impl CauseUnit for PerReplication {
    type Value = Seconds;
    const COLUMN: &'static str = "{cause}_s";
}

/// Minutes per app-year: `no_node_min_per_year`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PerYear;

impl CauseUnit for PerYear {
    type Value = Fixed<4>;
    const COLUMN: &'static str = "{cause}_min_per_year";
}

/// The column of a cause in unit `U`: `no_node_s`.
pub fn cause_column<U: CauseUnit>(cause: Cause) -> String {
    column_of(U::COLUMN, cause)
}

/// The column of `cause` in the pattern `pattern` (`{cause}_s`).
fn column_of(pattern: &str, cause: Cause) -> String {
    pattern.replace("{cause}", &cause.name().replace('-', "_"))
}

/// One column per cause, in `Cause::ALL` order, indexed by `Cause::index`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Causes<U: CauseUnit>(pub [U::Value; Cause::COUNT]);

impl<U: CauseUnit> Default for Causes<U> {
    fn default() -> Self {
        Causes([U::Value::default(); Cause::COUNT])
    }
}

impl<U: CauseUnit> Serialize for Causes<U> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeTupleStruct;
        // The name carries the columns' pattern to `header`; the csv writer
        // ignores it and writes the values in a row.
        let mut t = serializer.serialize_tuple_struct(U::COLUMN, Cause::COUNT)?;
        for value in &self.0 {
            t.serialize_field(value)?;
        }
        t.end()
    }
}

impl<'de, U: CauseUnit> de::Deserialize<'de> for Causes<U> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Columns<U>(PhantomData<U>);
        impl<'de, U: CauseUnit> Visitor<'de> for Columns<U> {
            type Value = Causes<U>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{} cause columns", Cause::COUNT)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Causes<U>, A::Error> {
                let mut out = Causes::<U>::default();
                for (i, slot) in out.0.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(out)
            }
        }
        deserializer.deserialize_tuple_struct(U::COLUMN, Cause::COUNT, Columns(PhantomData))
    }
}

// ---- the header ----

/// The header of row type `T`: its fields' names in order, a nested
/// struct's in its place, and one column per cause for [`Causes`].
pub fn header<T: Serialize + Default>() -> Vec<String> {
    let mut names = Vec::new();
    T::default().serialize(Names { out: &mut names, key: None }).expect("a row type is a struct of columns");
    names
}

/// A serializer that records column names instead of values.
struct Names<'a> {
    out: &'a mut Vec<String>,
    /// The field being serialized; `None` at the top.
    key: Option<&'static str>,
}

#[derive(Debug)]
struct NotARow(String);

impl fmt::Display for NotARow {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotARow {}

impl ser::Error for NotARow {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        NotARow(msg.to_string())
    }
}

impl Names<'_> {
    fn column(self) -> Result<(), NotARow> {
        match self.key {
            Some(key) => {
                self.out.push(key.to_string());
                Ok(())
            }
            None => Err(NotARow("a row is a struct, not a single value".into())),
        }
    }
}

macro_rules! scalar {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), NotARow> { self.column() })*
    };
}

impl<'a> Serializer for Names<'a> {
    type Ok = ();
    type Error = NotARow;
    type SerializeSeq = ser::Impossible<(), NotARow>;
    type SerializeTuple = ser::Impossible<(), NotARow>;
    type SerializeTupleStruct = Skip;
    type SerializeTupleVariant = ser::Impossible<(), NotARow>;
    type SerializeMap = ser::Impossible<(), NotARow>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = ser::Impossible<(), NotARow>;

    scalar!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str, serialize_bytes: &[u8]);

    fn serialize_none(self) -> Result<(), NotARow> {
        self.column()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), NotARow> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NotARow> {
        self.column()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotARow> {
        self.column()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), NotARow> {
        self.column()
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<(), NotARow> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotARow> {
        Err(NotARow("an enum with data is not a column".into()))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotARow> {
        Err(NotARow("a list is not a column".into()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotARow> {
        Err(NotARow("a tuple is not a column".into()))
    }
    fn serialize_tuple_struct(self, name: &'static str, _: usize) -> Result<Skip, NotARow> {
        if !name.contains("{cause}") {
            return Err(NotARow(format!("{name}: only the cause columns are a tuple")));
        }
        self.out.extend(Cause::ALL.iter().map(|&c| column_of(name, c)));
        Ok(Skip)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotARow> {
        Err(NotARow("an enum with data is not a column".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotARow> {
        Err(NotARow("a map is not a column".into()))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, NotARow> {
        Ok(Fields { out: self.out })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotARow> {
        Err(NotARow("an enum with data is not a column".into()))
    }
}

/// The fields of a struct: each a column or a nested struct of columns.
struct Fields<'a> {
    out: &'a mut Vec<String>,
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = NotARow;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), NotARow> {
        value.serialize(Names { out: self.out, key: Some(key) })
    }
    fn end(self) -> Result<(), NotARow> {
        Ok(())
    }
}

/// The values of the cause columns, named already.
struct Skip;

impl ser::SerializeTupleStruct for Skip {
    type Ok = ();
    type Error = NotARow;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &T) -> Result<(), NotARow> {
        Ok(())
    }
    fn end(self) -> Result<(), NotARow> {
        Ok(())
    }
}

// ---- writing ----

fn csv_error(e: csv::Error) -> Error {
    Error::Internal(format!("csv: {e}"))
}

/// A CSV file of rows `T`, its header first.
pub struct Writer<W: Write, T> {
    csv: csv::Writer<W>,
    row: PhantomData<T>,
}

impl<W: Write, T: Serialize + Default> Writer<W, T> {
    /// A writer into `sink` with `T`'s header written.
    pub fn new(sink: W) -> Result<Self, Error> {
        Self::with_header(sink, &header::<T>())
    }

    /// A writer into `sink` with `header` written: `T`'s, after columns of
    /// its own (a sweep's parameters).
    pub fn with_header(sink: W, header: &[String]) -> Result<Self, Error> {
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(sink);
        csv.write_record(header).map_err(csv_error)?;
        Ok(Writer { csv, row: PhantomData })
    }

    pub fn write(&mut self, row: &T) -> Result<(), Error> {
        self.csv.serialize(row).map_err(csv_error)
    }

    /// Writes `leading` cells (a sweep point's values), then `row`, as one line.
    pub fn write_after(&mut self, leading: &[String], row: &T) -> Result<(), Error> {
        for cell in leading {
            self.csv.write_field(cell).map_err(csv_error)?;
        }
        self.write(row)
    }

    /// Flushes and returns the sink; a write error surfaces here.
    pub fn finish(self) -> Result<W, Error> {
        self.csv.into_inner().map_err(|e| Error::Internal(format!("csv: {e}")))
    }
}

/// A whole CSV file of `rows`.
pub fn to_bytes<'a, T: Serialize + Default + 'a>(rows: impl IntoIterator<Item = &'a T>) -> Result<Vec<u8>, Error> {
    let mut writer = Writer::<_, T>::new(Vec::new())?;
    for row in rows {
        writer.write(row)?;
    }
    writer.finish()
}

// ---- reading ----

/// A CSV file of rows `T`, read a row at a time by the names in its header.
pub struct Reader<T> {
    path: PathBuf,
    records: csv::StringRecordsIntoIter<File>,
    header: Vec<String>,
    /// For each of `T`'s columns, its index in the file.
    columns: Vec<usize>,
    row: PhantomData<T>,
}

impl<T: DeserializeOwned + Serialize + Default> Reader<T> {
    /// Opens `path` and finds `T`'s columns in its header, `first` before
    /// the others (the columns rows are found by), so a file that lacks
    /// several names those.
    pub fn open(path: &Path, first: &[&str]) -> Result<Self, Error> {
        let mut reader = csv::Reader::from_path(path).map_err(|e| Error::in_file(path, format!("cannot read: {e}")))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| Error::in_file(path, format!("bad header: {e}")))?
            .iter()
            .map(String::from)
            .collect();
        let index = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                Error::in_file(path, format!("no column `{name}` in its header: not a clustersim result file"))
            })
        };
        for name in first {
            index(name)?;
        }
        let columns = self::header::<T>().iter().map(|name| index(name)).collect::<Result<_, _>>()?;
        Ok(Reader { path: path.to_path_buf(), records: reader.into_records(), header, columns, row: PhantomData })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next row, with its record (for [`Reader::at`]); `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<(T, csv::StringRecord)>, Error> {
        let Some(record) =
            self.records.next().transpose().map_err(|e| Error::in_file(&self.path, format!("bad row: {e}")))?
        else {
            return Ok(None);
        };
        // The csv reader refuses a row with another number of fields than
        // the header, so every column found is in every row.
        let cells: Vec<&str> = self.columns.iter().map(|&i| record.get(i).unwrap_or_default()).collect();
        let mut de = Cells { cells: &cells, next: 0 };
        match T::deserialize(&mut de) {
            Ok(row) => Ok(Some((row, record))),
            // The error is at the last cell taken.
            Err(CellError(message)) => match self.columns.get(de.next.saturating_sub(1)) {
                Some(&index) => Err(self.cell(&record, index, message)),
                None => Err(Error::in_file(&self.path, format!("bad row: {message}"))),
            },
        }
    }

    /// The text of the cell of column `name` in `record` (empty without one).
    pub fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.header.iter().position(|h| h == name).and_then(|i| record.get(i)).unwrap_or_default()
    }

    /// An error at the cell of column `name` in `record`.
    pub fn at(&self, record: &csv::StringRecord, name: &str, message: String) -> Error {
        match self.header.iter().position(|h| h == name) {
            Some(index) => self.cell(record, index, message),
            None => Error::in_file(&self.path, message),
        }
    }

    /// The place of cell `index` of `record`, for an error: its 1-based line
    /// and column, counted over the fields before it and their separators
    /// (exact for the files clustersim writes, which quote none of these
    /// fields; at or before the cell where a hand-edited field is quoted or
    /// spans lines), and its column's name as the key.
    fn cell(&self, record: &csv::StringRecord, index: usize, message: String) -> Error {
        let mut line = record.position().map_or(1, |p| p.line() as usize);
        let mut column = 1;
        for field in record.iter().take(index) {
            match field.rsplit_once('\n') {
                Some((before, after)) => {
                    line += before.matches('\n').count() + 1;
                    column = after.chars().count() + 2;
                }
                None => column += field.chars().count() + 1,
            }
        }
        Error::Input(InputError {
            file: self.path.display().to_string(),
            location: Some((line, column)),
            key: Some(self.header[index].clone()),
            message,
        })
    }
}

/// Every row of the file `path`.
pub fn read_all<T: DeserializeOwned + Serialize + Default>(path: &Path) -> Result<Vec<T>, Error> {
    let mut reader = Reader::<T>::open(path, &[])?;
    let mut rows = Vec::new();
    while let Some((row, _)) = reader.next_row()? {
        rows.push(row);
    }
    Ok(rows)
}

/// The error of a cell: its message (the cell is the last one taken).
#[derive(Debug)]
struct CellError(String);

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CellError {}

impl de::Error for CellError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CellError(msg.to_string())
    }
}

/// A row's cells in its type's column order, deserialized one after the
/// other (a struct's fields, nested structs and the cause columns alike).
/// Not the csv crate's deserializer: that one forgets which field a
/// custom error (a bad count, a bad number of seconds) came from.
struct Cells<'a> {
    cells: &'a [&'a str],
    next: usize,
}

impl<'a> Cells<'a> {
    fn take(&mut self) -> Result<&'a str, CellError> {
        let cell = self.cells.get(self.next).ok_or_else(|| CellError("the row ends early".into()))?;
        self.next += 1;
        Ok(cell)
    }

    fn parse<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, CellError> {
        let cell = self.take()?;
        cell.parse().map_err(|_| CellError(format!("`{cell}` is not {what}")))
    }
}

macro_rules! number {
    ($($method:ident, $visit:ident, $ty:ty, $what:literal;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CellError> {
            visitor.$visit(self.parse::<$ty>($what)?)
        })*
    };
}

impl<'de, 'a> Deserializer<'de> for &mut Cells<'a> {
    type Error = CellError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CellError> {
        visitor.visit_str(self.take()?)
    }

    number! {
        deserialize_u8, visit_u8, u8, "a number";
        deserialize_u16, visit_u16, u16, "a number";
        deserialize_u32, visit_u32, u32, "a number";
        deserialize_u64, visit_u64, u64, "a number";
        deserialize_i8, visit_i8, i8, "a number";
        deserialize_i16, visit_i16, i16, "a number";
        deserialize_i32, visit_i32, i32, "a number";
        deserialize_i64, visit_i64, i64, "a number";
        deserialize_f32, visit_f32, f32, "a number";
        deserialize_f64, visit_f64, f64, "a number";
        deserialize_bool, visit_bool, bool, "`true` or `false`";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CellError> {
        if self.cells.get(self.next).is_some_and(|c| c.is_empty()) {
            self.next += 1;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CellError> {
        visitor.visit_seq(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, CellError> {
        visitor.visit_seq(self)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, CellError> {
        visitor.visit_seq(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CellError> {
        visitor.visit_seq(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, CellError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct map enum identifier ignored_any
    }
}

impl<'de> de::SeqAccess<'de> for &mut Cells<'_> {
    type Error = CellError;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, CellError> {
        if self.next >= self.cells.len() {
            return Ok(None);
        }
        seed.deserialize(&mut **self).map(Some)
    }
}
