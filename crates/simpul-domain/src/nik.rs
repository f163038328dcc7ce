//! The NIK (Nomor Induk Kependudukan) and the KK (Kartu Keluarga) number.
//!
//! Both are 16 digits, `PPKKCC DDMMYY SSSS` (UU 23/2006 as amended by UU 24/2013; layout in
//! `ADMINDUK.md`): the kecamatan where the number was first issued, a date, and a serial from
//! `0001`. In a NIK the date is the birth date with 40 added to the day for women; in a KK it
//! is the date the family was recorded. Each failed rule has its own [`IdNumberError`] kind,
//! so a kelurahan operator is told exactly which digit is wrong.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::codes::Sex;
use crate::wilayah::{DistrictCodes, KodeWilayah};

/// Digits in a NIK or KK number.
pub const ID_NUMBER_LEN: usize = 16;
/// Added to a woman's birth day in her NIK.
const FEMALE_DAY_OFFSET: u32 = 40;

/// Why a NIK or KK number was refused. Positions are 1-based, as a person counts digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "jenis", rename_all = "snake_case")]
pub enum IdNumberError {
    #[error("harus 16 digit, bukan {found}")]
    Length { found: usize },
    #[error("karakter ke-{position} bukan angka")]
    NonDigit { position: usize },
    #[error("kode kecamatan {code} tidak ada dalam data wilayah")]
    UnknownDistrict { code: String },
    #[error("hari {day} tidak sah: 01-31 untuk laki-laki, 41-71 untuk perempuan")]
    DayOutOfRange { day: u32 },
    #[error("tanggal {day:02}-{month:02}-{year:02} tidak ada di kalender")]
    ImpossibleDate { day: u32, month: u32, year: u32 },
    #[error("nomor urut 0000 tidak sah; nomor urut dimulai dari 0001")]
    SerialZero,
}

impl IdNumberError {
    /// Stable machine-readable kind, used in API problems and CLI output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Length { .. } => "length",
            Self::NonDigit { .. } => "non_digit",
            Self::UnknownDistrict { .. } => "unknown_district",
            Self::DayOutOfRange { .. } => "day_out_of_range",
            Self::ImpossibleDate { .. } => "impossible_date",
            Self::SerialZero => "serial_zero",
        }
    }
}

/// The fields both numbers share once the digits are known to be well placed.
struct Layout {
    day: u32,
    month: u32,
    year2: u32,
}

fn split_layout(input: &str, districts: &impl DistrictCodes) -> Result<Layout, IdNumberError> {
    let length = input.chars().count();
    if length != ID_NUMBER_LEN {
        return Err(IdNumberError::Length { found: length });
    }
    if let Some(position) = input.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(IdNumberError::NonDigit {
            position: position + 1,
        });
    }
    let number = |range: std::ops::Range<usize>| -> u32 {
        input[range]
            .bytes()
            .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
    };
    let district = &input[0..6];
    if !districts.has_district(district) {
        return Err(IdNumberError::UnknownDistrict {
            code: district.to_owned(),
        });
    }
    if number(12..16) == 0 {
        return Err(IdNumberError::SerialZero);
    }
    Ok(Layout {
        day: number(6..8),
        month: number(8..10),
        year2: number(10..12),
    })
}

/// The full year for a two-digit year: the latest century that does not put the date after
/// `today` (nobody is born, and no family recorded, in the future).
fn resolve_date(
    day: u32,
    month: u32,
    year2: u32,
    today: NaiveDate,
) -> Result<NaiveDate, IdNumberError> {
    let impossible = IdNumberError::ImpossibleDate {
        day,
        month,
        year: year2,
    };
    let century = today.year() / 100 * 100;
    let this_century = NaiveDate::from_ymd_opt(century + year2 as i32, month, day);
    let last_century = NaiveDate::from_ymd_opt(century - 100 + year2 as i32, month, day);
    match (this_century, last_century) {
        (Some(date), _) if date <= today => Ok(date),
        (_, Some(date)) => Ok(date),
        _ => Err(impossible),
    }
}

fn kecamatan_code(undotted: &str) -> KodeWilayah {
    KodeWilayah::from_checked_digits(undotted)
}

/// A NIK whose layout, region and date have been checked.
///
/// `Debug` shows only the region prefix, so a stray `{:?}` in a log never leaks the number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "3577014708900001"))]
#[serde(into = "String", try_from = "String")]
pub struct Nik(String);

impl Nik {
    /// Parses and checks a NIK against the known kecamatan codes. `today` fixes the century
    /// of the two-digit birth year.
    pub fn parse(
        input: &str,
        districts: &impl DistrictCodes,
        today: NaiveDate,
    ) -> Result<Self, IdNumberError> {
        let layout = split_layout(input, districts)?;
        let (day, _) = nik_day(layout.day)?;
        resolve_date(day, layout.month, layout.year2, today)?;
        Ok(Self(input.to_owned()))
    }

    /// Builds the NIK for a person: issuing kecamatan, birth date, sex and serial.
    pub fn compose(
        kecamatan: &KodeWilayah,
        birth_date: NaiveDate,
        sex: Sex,
        serial: u16,
    ) -> Option<Self> {
        let district = kecamatan.undotted();
        if district.len() != 6 || serial == 0 || serial > 9999 {
            return None;
        }
        let day = birth_date.day()
            + if sex == Sex::Perempuan {
                FEMALE_DAY_OFFSET
            } else {
                0
            };
        Some(Self(format!(
            "{district}{day:02}{:02}{:02}{serial:04}",
            birth_date.month(),
            birth_date.year().rem_euclid(100)
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kecamatan that first issued the number (not necessarily the address).
    pub fn district(&self) -> KodeWilayah {
        kecamatan_code(&self.0[0..6])
    }

    /// Sex as encoded by the day offset.
    pub fn sex(&self) -> Sex {
        if self.day_field() > FEMALE_DAY_OFFSET {
            Sex::Perempuan
        } else {
            Sex::LakiLaki
        }
    }

    /// Whether `date` has the day, month and two-digit year the NIK encodes.
    pub fn matches_birth_date(&self, date: NaiveDate) -> bool {
        let day = self.day_field() % FEMALE_DAY_OFFSET;
        let field = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().unwrap_or(0);
        day == date.day()
            && field(8..10) == date.month()
            && field(10..12) == date.year().rem_euclid(100) as u32
    }

    pub fn serial(&self) -> u16 {
        self.0[12..16].parse().unwrap_or(0)
    }

    /// The birth date the NIK encodes, its century placed as [`Nik::parse`] does for
    /// `today`. `None` only if `today` is earlier than the day the NIK was parsed against.
    pub fn birth_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        let field = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().unwrap_or(0);
        let (day, _) = nik_day(self.day_field()).ok()?;
        resolve_date(day, field(8..10), field(10..12), today).ok()
    }

    fn day_field(&self) -> u32 {
        self.0[6..8].parse().unwrap_or(0)
    }
}

/// Splits a NIK's day field into the calendar day and the sex it encodes.
fn nik_day(field: u32) -> Result<(u32, Sex), IdNumberError> {
    match field {
        1..=31 => Ok((field, Sex::LakiLaki)),
        41..=71 => Ok((field - FEMALE_DAY_OFFSET, Sex::Perempuan)),
        _ => Err(IdNumberError::DayOutOfRange { day: field }),
    }
}

/// A Kartu Keluarga number whose layout, region and date have been checked.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "3577012501150001"))]
#[serde(into = "String", try_from = "String")]
pub struct NoKk(String);

impl NoKk {
    /// Parses and checks a KK number. A KK's date has no sex offset, so days above 31 fail.
    pub fn parse(
        input: &str,
        districts: &impl DistrictCodes,
        today: NaiveDate,
    ) -> Result<Self, IdNumberError> {
        let layout = split_layout(input, districts)?;
        if !(1..=31).contains(&layout.day) {
            return Err(IdNumberError::DayOutOfRange { day: layout.day });
        }
        resolve_date(layout.day, layout.month, layout.year2, today)?;
        Ok(Self(input.to_owned()))
    }

    /// Builds a KK number from the issuing kecamatan, the recording date and a serial.
    pub fn compose(kecamatan: &KodeWilayah, recorded: NaiveDate, serial: u16) -> Option<Self> {
        let district = kecamatan.undotted();
        if district.len() != 6 || serial == 0 || serial > 9999 {
            return None;
        }
        Some(Self(format!(
            "{district}{:02}{:02}{:02}{serial:04}",
            recorded.day(),
            recorded.month(),
            recorded.year().rem_euclid(100)
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn district(&self) -> KodeWilayah {
        kecamatan_code(&self.0[0..6])
    }

    /// The serial among cards issued by the kecamatan that day.
    pub fn serial(&self) -> u16 {
        self.0[12..16].parse().unwrap_or(0)
    }
}

macro_rules! redacted_number_impls {
    ($ty:ident) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({}**********)"), &self.0[0..6])
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
        impl TryFrom<String> for $ty {
            type Error = IdNumberError;
            /// Deserialisation checks against the embedded master data and today's date.
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value, crate::wilayah::embedded(), crate::today())
            }
        }
    };
}
redacted_number_impls!(Nik);
redacted_number_impls!(NoKk);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wilayah::embedded;
    use rstest::rstest;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn parse(input: &str) -> Result<Nik, IdNumberError> {
        Nik::parse(input, embedded(), today())
    }

    #[rstest]
    #[case::male("3577011708450001", Sex::LakiLaki, (1945, 8, 17))]
    #[case::female("3577015708450002", Sex::Perempuan, (1945, 8, 17))]
    #[case::female_day_41("3577014101000001", Sex::Perempuan, (2000, 1, 1))]
    #[case::female_day_71("3577017112990001", Sex::Perempuan, (1999, 12, 31))]
    #[case::this_century("3577010101250001", Sex::LakiLaki, (2025, 1, 1))]
    #[case::leap_day("3577012902000001", Sex::LakiLaki, (2000, 2, 29))]
    fn accepts_valid(#[case] input: &str, #[case] sex: Sex, #[case] ymd: (i32, u32, u32)) {
        let nik = parse(input).expect("valid NIK");
        assert_eq!(nik.sex(), sex);
        assert!(nik.matches_birth_date(NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2).unwrap()));
        assert_eq!(nik.district().as_str(), "35.77.01");
        assert_eq!(
            nik.birth_date(today()),
            NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2)
        );
    }

    #[rstest]
    #[case::too_short("357701170845001", IdNumberError::Length { found: 15 })]
    #[case::too_long("35770117084500011", IdNumberError::Length { found: 17 })]
    #[case::empty("", IdNumberError::Length { found: 0 })]
    #[case::letter("35770117O8450001", IdNumberError::NonDigit { position: 9 })]
    #[case::space("3577011708 50001", IdNumberError::NonDigit { position: 11 })]
    #[case::unknown_district("3577991708450001", IdNumberError::UnknownDistrict { code: "357799".into() })]
    #[case::day_zero("3577010008450001", IdNumberError::DayOutOfRange { day: 0 })]
    #[case::day_32("3577013208450001", IdNumberError::DayOutOfRange { day: 32 })]
    #[case::day_40("3577014008450001", IdNumberError::DayOutOfRange { day: 40 })]
    #[case::day_72("3577017208450001", IdNumberError::DayOutOfRange { day: 72 })]
    #[case::feb_30("3577013002450001", IdNumberError::ImpossibleDate { day: 30, month: 2, year: 45 })]
    #[case::female_feb_30("3577017002450001", IdNumberError::ImpossibleDate { day: 30, month: 2, year: 45 })]
    #[case::month_13("3577010113450001", IdNumberError::ImpossibleDate { day: 1, month: 13, year: 45 })]
    #[case::feb_29_non_leap("3577012902010001", IdNumberError::ImpossibleDate { day: 29, month: 2, year: 1 })]
    #[case::serial_zero("3577011708450000", IdNumberError::SerialZero)]
    fn refuses_each_rule(#[case] input: &str, #[case] expected: IdNumberError) {
        assert_eq!(parse(input), Err(expected));
    }

    #[test]
    fn multibyte_input_counts_characters() {
        assert_eq!(
            parse("357701170845000é"),
            Err(IdNumberError::NonDigit { position: 16 })
        );
    }

    #[test]
    fn future_year_falls_back_a_century() {
        // 01-01-30 would be 2030, after today: the person was born in 1930.
        let nik = parse("3577010101300001").unwrap();
        assert!(nik.matches_birth_date(NaiveDate::from_ymd_opt(1930, 1, 1).unwrap()));
    }

    #[test]
    fn debug_hides_all_but_region() {
        let nik = parse("3577015708450002").unwrap();
        assert_eq!(format!("{nik:?}"), "Nik(357701**********)");
    }

    #[test]
    fn kk_refuses_female_offset() {
        assert_eq!(
            NoKk::parse("3577014501150001", embedded(), today()),
            Err(IdNumberError::DayOutOfRange { day: 45 })
        );
        assert!(NoKk::parse("3577012501150001", embedded(), today()).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn composed_niks_parse_back(
            days in 0i64..36_000,
            female in proptest::bool::ANY,
            serial in 1u16..=9999,
        ) {
            let birth = NaiveDate::from_ymd_opt(1927, 1, 1).unwrap() + chrono::Duration::days(days);
            let sex = if female { Sex::Perempuan } else { Sex::LakiLaki };
            let kecamatan = KodeWilayah::parse("35.77.03").unwrap();
            let nik = Nik::compose(&kecamatan, birth, sex, serial).unwrap();
            let parsed = parse(nik.as_str()).unwrap();
            proptest::prop_assert_eq!(parsed.sex(), sex);
            proptest::prop_assert!(parsed.matches_birth_date(birth));
            proptest::prop_assert_eq!(parsed.serial(), serial);
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,20}") {
            let _ = parse(&input);
        }
    }
}
