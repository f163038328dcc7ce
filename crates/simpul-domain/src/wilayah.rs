//! Kemendagri region codes (kode wilayah) and the embedded region master data.
//!
//! Codes are dotted, one part per level: `35` (provinsi), `35.77` (kabupaten/kota),
//! `35.77.01` (kecamatan), `35.77.01.1001` (kelurahan/desa; the fourth part starts with 1
//! for a kelurahan and 2 for a desa). The master data is the `idn-area-data` 4.0.1 set under
//! the Open Database License 1.0; see `data/wilayah/README.md` and `LICENSE-ODbL.md`.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The administrative level a code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Provinsi,
    KabupatenKota,
    Kecamatan,
    KelurahanDesa,
}

impl RegionLevel {
    /// Stable storage code.
    pub fn as_code(self) -> &'static str {
        match self {
            Self::Provinsi => "provinsi",
            Self::KabupatenKota => "kabupaten_kota",
            Self::Kecamatan => "kecamatan",
            Self::KelurahanDesa => "kelurahan_desa",
        }
    }

    fn from_parts(parts: usize) -> Option<Self> {
        match parts {
            1 => Some(Self::Provinsi),
            2 => Some(Self::KabupatenKota),
            3 => Some(Self::Kecamatan),
            4 => Some(Self::KelurahanDesa),
            _ => None,
        }
    }
}

/// Why a region code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("kode wilayah harus berbentuk 35, 35.77, 35.77.01 atau 35.77.01.1001")]
    Malformed,
}

/// A syntactically valid Kemendagri region code, kept in dotted form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "35.77.01.1001"))]
#[serde(try_from = "String", into = "String")]
pub struct KodeWilayah(String);

/// Digits per part of a dotted code, by level.
const PART_WIDTHS: [usize; 4] = [2, 2, 2, 4];

impl KodeWilayah {
    /// Parses a dotted (`35.77.01`) or undotted (`357701`) code.
    pub fn parse(input: &str) -> Result<Self, RegionCodeError> {
        let input = input.trim();
        if input.contains('.') {
            let parts: Vec<&str> = input.split('.').collect();
            let well_formed = parts.len() <= 4
                && parts.iter().zip(PART_WIDTHS).all(|(part, width)| {
                    part.len() == width && part.bytes().all(|b| b.is_ascii_digit())
                });
            return if well_formed {
                Ok(Self(input.to_owned()))
            } else {
                Err(RegionCodeError::Malformed)
            };
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::Malformed);
        }
        let mut parts = Vec::new();
        let mut rest = input;
        for width in PART_WIDTHS {
            if rest.is_empty() {
                break;
            }
            if rest.len() < width {
                return Err(RegionCodeError::Malformed);
            }
            let (head, tail) = rest.split_at(width);
            parts.push(head);
            rest = tail;
        }
        if parts.is_empty() || !rest.is_empty() {
            return Err(RegionCodeError::Malformed);
        }
        Ok(Self(parts.join(".")))
    }

    /// Dots a string already known to hold only ASCII digits in whole parts (a NIK's
    /// first six digits), so no error path is needed.
    pub(crate) fn from_checked_digits(digits: &str) -> Self {
        let widths = PART_WIDTHS.iter().scan(0, |start, width| {
            let range = *start..*start + width;
            *start += width;
            Some(range)
        });
        let parts: Vec<&str> = widths.map_while(|r| digits.get(r)).collect();
        Self(parts.join("."))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> RegionLevel {
        RegionLevel::from_parts(self.0.split('.').count()).unwrap_or(RegionLevel::KelurahanDesa)
    }

    /// The code one level up, or `None` for a province.
    pub fn parent(&self) -> Option<KodeWilayah> {
        self.0
            .rsplit_once('.')
            .map(|(head, _)| Self(head.to_owned()))
    }

    /// The code without dots, as it appears at the start of a NIK (`357701`).
    pub fn undotted(&self) -> String {
        self.0.replace('.', "")
    }

    /// True when `self` is `other` or lies inside it.
    pub fn is_within(&self, other: &KodeWilayah) -> bool {
        self.0 == other.0
            || (self.0.starts_with(other.as_str()) && self.0.as_bytes()[other.0.len()] == b'.')
    }
}

impl fmt::Display for KodeWilayah {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KodeWilayah {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KodeWilayah({})", self.0)
    }
}

impl TryFrom<String> for KodeWilayah {
    type Error = RegionCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<KodeWilayah> for String {
    fn from(value: KodeWilayah) -> Self {
        value.0
    }
}

/// One region of the master data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub code: KodeWilayah,
    pub name: String,
    pub level: RegionLevel,
}

/// Answers whether a kecamatan code exists; NIK and KK validation need nothing more.
pub trait DistrictCodes {
    /// `code` is the six-digit undotted kecamatan code (`357701`).
    fn has_district(&self, undotted: &str) -> bool;
}

/// The whole region master data, indexed by code.
#[derive(Debug, Default)]
pub struct RegionDirectory {
    regions: HashMap<KodeWilayah, Region>,
    districts_undotted: std::collections::HashSet<String>,
}

/// Why embedded or supplied master data could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file} baris {row}: {problem}")]
pub struct MasterDataError {
    pub file: &'static str,
    pub row: u64,
    pub problem: String,
}

const EMBEDDED: [(&str, &[u8]); 4] = [
    (
        "provinces.csv",
        include_bytes!("../../../data/wilayah/provinces.csv"),
    ),
    (
        "regencies.csv",
        include_bytes!("../../../data/wilayah/regencies.csv"),
    ),
    (
        "districts.csv",
        include_bytes!("../../../data/wilayah/districts.csv"),
    ),
    (
        "villages.csv",
        include_bytes!("../../../data/wilayah/villages.csv"),
    ),
];

impl RegionDirectory {
    /// Reads the four master-data CSV files (code first, name last).
    pub fn from_csv(files: &[(&'static str, &[u8])]) -> Result<Self, MasterDataError> {
        let mut directory = Self::default();
        for (file, bytes) in files {
            let mut reader = csv::Reader::from_reader(*bytes);
            for (index, record) in reader.records().enumerate() {
                let row = index as u64 + 2;
                let fail = |problem: String| MasterDataError { file, row, problem };
                let record = record.map_err(|e| fail(e.to_string()))?;
                let (Some(code), Some(name)) = (record.get(0), record.get(record.len() - 1)) else {
                    return Err(fail("baris kosong".into()));
                };
                let code = KodeWilayah::parse(code).map_err(|e| fail(e.to_string()))?;
                directory.insert(Region {
                    level: code.level(),
                    code,
                    name: name.to_owned(),
                });
            }
        }
        Ok(directory)
    }

    fn insert(&mut self, region: Region) {
        if region.level == RegionLevel::Kecamatan {
            self.districts_undotted.insert(region.code.undotted());
        }
        self.regions.insert(region.code.clone(), region);
    }

    pub fn get(&self, code: &KodeWilayah) -> Option<&Region> {
        self.regions.get(code)
    }

    /// Every region, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Regions directly below `code`, sorted by code.
    pub fn children(&self, code: &KodeWilayah) -> Vec<&Region> {
        let mut children: Vec<&Region> = self
            .regions
            .values()
            .filter(|r| r.code.parent().as_ref() == Some(code))
            .collect();
        children.sort_by(|a, b| a.code.cmp(&b.code));
        children
    }
}

impl DistrictCodes for RegionDirectory {
    fn has_district(&self, undotted: &str) -> bool {
        self.districts_undotted.contains(undotted)
    }
}

/// The master data compiled into the binary, parsed once on first use.
pub fn embedded() -> &'static RegionDirectory {
    static DIRECTORY: OnceLock<RegionDirectory> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        // The embedded files are checked by the test suite, so failing here means a broken build.
        RegionDirectory::from_csv(&EMBEDDED).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("35", "35")]
    #[case("3577", "35.77")]
    #[case("357701", "35.77.01")]
    #[case("3577011001", "35.77.01.1001")]
    #[case("35.77.01.1001", "35.77.01.1001")]
    fn parses_dotted_and_undotted(#[case] input: &str, #[case] dotted: &str) {
        assert_eq!(
            KodeWilayah::parse(input).map(String::from),
            Ok(dotted.to_owned())
        );
    }

    #[rstest]
    #[case("")]
    #[case("3")]
    #[case("35.7")]
    #[case("35.77.01.100")]
    #[case("35.77.01.1001.1")]
    #[case("35577")]
    #[case("ab")]
    fn refuses_malformed(#[case] input: &str) {
        assert_eq!(KodeWilayah::parse(input), Err(RegionCodeError::Malformed));
    }

    #[test]
    fn embedded_master_data_is_complete() {
        let directory = RegionDirectory::from_csv(&EMBEDDED).expect("embedded data parses");
        let count = |level| directory.iter().filter(|r| r.level == level).count();
        assert_eq!(count(RegionLevel::Provinsi), 38);
        assert_eq!(count(RegionLevel::KabupatenKota), 514);
        assert_eq!(count(RegionLevel::Kecamatan), 7_285);
        assert_eq!(count(RegionLevel::KelurahanDesa), 83_762);
        let madiun = KodeWilayah::parse("35.77").unwrap();
        let names: Vec<_> = directory
            .children(&madiun)
            .iter()
            .map(|r| r.name.clone())
            .collect();
        assert_eq!(names, ["Kartoharjo", "Manguharjo", "Taman"]);
        assert!(directory.has_district("357701"));
        assert!(!directory.has_district("357799"));
    }

    #[test]
    fn within_respects_part_boundaries() {
        let kel = KodeWilayah::parse("35.77.01.1001").unwrap();
        assert!(kel.is_within(&KodeWilayah::parse("35.77").unwrap()));
        assert!(KodeWilayah::parse("35.7").is_err());
        assert!(!kel.is_within(&KodeWilayah::parse("35.78").unwrap()));
    }
}
