//! Plain row shapes shared by the backends, and their conversion to and from domain values.
//!
//! A backend reads columns into these structs (strings and integers only) and lets this
//! module parse them back through the domain constructors, so both backends interpret
//! stored data identically and a bad row becomes [`StoreError::Corrupt`] in one place.

use chrono::NaiveDate;
use simpul_domain::verification::VerificationRecord;
use simpul_domain::wilayah::{Region, RegionLevel};
use simpul_domain::{
    Address, Citizenship, Education, FamilyRelationship, KodeWilayah, MaritalStatus, Nik, NoKk,
    Religion, Resident, ResidentStatus, Sex, name,
};

use crate::{ResidentSummary, StoreError};

/// The resident columns in the order every backend selects them.
pub const RESIDENT_COLUMNS: &str = "nik, no_kk, full_name, sex, birth_place, birth_date, religion, \
     marital_status, relationship, education, occupation, father_name, mother_name, citizenship, \
     status, kelurahan, kecamatan, position";

/// One `residents` row.
#[derive(Debug, Clone)]
pub struct ResidentRow {
    pub nik: String,
    pub no_kk: String,
    pub full_name: String,
    pub sex: String,
    pub birth_place: String,
    pub birth_date: NaiveDate,
    pub religion: String,
    pub marital_status: String,
    pub relationship: String,
    pub education: String,
    pub occupation: String,
    pub father_name: String,
    pub mother_name: String,
    pub citizenship: String,
    pub status: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub position: i64,
}

/// One `families` row.
#[derive(Debug, Clone)]
pub struct FamilyRow {
    pub no_kk: String,
    pub street: String,
    pub rt: i64,
    pub rw: i64,
    pub kelurahan: String,
    pub head_nik: String,
}

/// One `regions` row.
#[derive(Debug, Clone)]
pub struct RegionRow {
    pub code: String,
    pub parent: Option<String>,
    pub level: String,
    pub name: String,
    pub name_search: String,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    // The value is named only by kind: a stored row may hold personal data.
    StoreError::Corrupt(format!("unreadable {what} ({} chars)", value.len()))
}

fn coded<T>(what: &str, value: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(value).ok_or_else(|| corrupt(what, value))
}

pub fn parse_nik(value: &str) -> Result<Nik, StoreError> {
    Nik::parse(
        value,
        simpul_domain::wilayah::embedded(),
        simpul_domain::today(),
    )
    .map_err(|_| corrupt("nik", value))
}

pub fn parse_no_kk(value: &str) -> Result<NoKk, StoreError> {
    NoKk::parse(
        value,
        simpul_domain::wilayah::embedded(),
        simpul_domain::today(),
    )
    .map_err(|_| corrupt("no_kk", value))
}

pub fn parse_code(value: &str) -> Result<KodeWilayah, StoreError> {
    KodeWilayah::parse(value).map_err(|_| corrupt("region code", value))
}

impl ResidentRow {
    pub fn from_domain(resident: &Resident, address: &Address, position: usize) -> Self {
        Self {
            nik: resident.nik.as_str().to_owned(),
            no_kk: resident.no_kk.as_str().to_owned(),
            full_name: resident.full_name.clone(),
            sex: resident.sex.as_code().to_owned(),
            birth_place: resident.birth_place.clone(),
            birth_date: resident.birth_date,
            religion: resident.religion.as_code().to_owned(),
            marital_status: resident.marital_status.as_code().to_owned(),
            relationship: resident.relationship.as_code().to_owned(),
            education: resident.education.as_code().to_owned(),
            occupation: resident.occupation.clone(),
            father_name: resident.father_name.clone(),
            mother_name: resident.mother_name.clone(),
            citizenship: resident.citizenship.as_code().to_owned(),
            status: resident.status.as_code().to_owned(),
            kelurahan: address.kelurahan.as_str().to_owned(),
            kecamatan: address
                .kelurahan
                .parent()
                .map(String::from)
                .unwrap_or_default(),
            position: position as i64,
        }
    }

    /// The normalised name words to index for this resident.
    pub fn name_tokens(&self) -> Vec<String> {
        let mut tokens = name::tokens(&self.full_name);
        tokens.sort();
        tokens.dedup();
        tokens
    }

    pub fn into_resident(self) -> Result<Resident, StoreError> {
        Ok(Resident {
            nik: parse_nik(&self.nik)?,
            no_kk: parse_no_kk(&self.no_kk)?,
            sex: coded("sex", &self.sex, Sex::from_code)?,
            religion: coded("religion", &self.religion, Religion::from_code)?,
            marital_status: coded(
                "marital status",
                &self.marital_status,
                MaritalStatus::from_code,
            )?,
            relationship: coded(
                "relationship",
                &self.relationship,
                FamilyRelationship::from_code,
            )?,
            education: coded("education", &self.education, Education::from_code)?,
            citizenship: coded("citizenship", &self.citizenship, Citizenship::from_code)?,
            status: coded("status", &self.status, ResidentStatus::from_code)?,
            full_name: self.full_name,
            birth_place: self.birth_place,
            birth_date: self.birth_date,
            occupation: self.occupation,
            father_name: self.father_name,
            mother_name: self.mother_name,
        })
    }

    pub fn into_summary(self) -> Result<ResidentSummary, StoreError> {
        Ok(ResidentSummary {
            nik: parse_nik(&self.nik)?,
            no_kk: parse_no_kk(&self.no_kk)?,
            jenis_kelamin: coded("sex", &self.sex, Sex::from_code)?,
            status: coded("status", &self.status, ResidentStatus::from_code)?,
            kelurahan: parse_code(&self.kelurahan)?,
            nama_lengkap: self.full_name,
            tanggal_lahir: self.birth_date,
        })
    }
}

impl FamilyRow {
    pub fn from_domain(family: &simpul_domain::Family) -> Self {
        Self {
            no_kk: family.no_kk.as_str().to_owned(),
            street: family.address.street.clone(),
            rt: i64::from(family.address.rt),
            rw: i64::from(family.address.rw),
            kelurahan: family.address.kelurahan.as_str().to_owned(),
            head_nik: family
                .head()
                .map(|h| h.nik.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    pub fn into_address(self) -> Result<Address, StoreError> {
        let neighbourhood =
            |v: i64| u16::try_from(v).map_err(|_| StoreError::Corrupt("RT/RW out of range".into()));
        Ok(Address {
            street: self.street,
            rt: neighbourhood(self.rt)?,
            rw: neighbourhood(self.rw)?,
            kelurahan: parse_code(&self.kelurahan)?,
        })
    }
}

impl RegionRow {
    pub fn from_domain(region: &Region) -> Self {
        Self {
            code: region.code.as_str().to_owned(),
            parent: region.code.parent().map(String::from),
            level: region.level.as_code().to_owned(),
            name: region.name.clone(),
            name_search: region_search_key(&region.name),
        }
    }

    pub fn into_region(self) -> Result<Region, StoreError> {
        let code = parse_code(&self.code)?;
        let level = [
            RegionLevel::Provinsi,
            RegionLevel::KabupatenKota,
            RegionLevel::Kecamatan,
            RegionLevel::KelurahanDesa,
        ]
        .into_iter()
        .find(|l| l.as_code() == self.level)
        .ok_or_else(|| corrupt("region level", &self.level))?;
        Ok(Region {
            code,
            name: self.name,
            level,
        })
    }
}

/// The columns a verification reads, in the order of [`VerificationRow`]: only what a
/// claim is compared with, so the hot path moves as little data as it can.
pub const VERIFICATION_COLUMNS: &str =
    "nik, status, full_name, birth_date, birth_place, mother_name";

/// One resident's verification view as stored, in [`VERIFICATION_COLUMNS`] order. It
/// deserialises from a JSON array too, which SQLite uses to return a whole batch in one
/// value instead of one row at a time.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct VerificationRow(
    pub String,
    pub String,
    pub String,
    pub NaiveDate,
    pub String,
    pub String,
);

impl VerificationRow {
    /// The stored NIK text and the record. The caller maps the text back to the NIK it
    /// asked for, so the number is not parsed again.
    pub fn into_record(self) -> Result<(String, VerificationRecord), StoreError> {
        let Self(nik, status, full_name, birth_date, birth_place, mother_name) = self;
        Ok((
            nik,
            VerificationRecord {
                status: coded("status", &status, ResidentStatus::from_code)?,
                full_name,
                birth_date,
                birth_place,
                mother_name,
            },
        ))
    }
}

/// Keys `rows` by the NIKs that were asked for; a row for a NIK not asked for means the
/// query is wrong, which is reported rather than ignored.
pub fn verification_map(
    asked: &[Nik],
    rows: impl IntoIterator<Item = VerificationRow>,
) -> Result<std::collections::HashMap<Nik, VerificationRecord>, StoreError> {
    let by_text: std::collections::HashMap<&str, &Nik> =
        asked.iter().map(|nik| (nik.as_str(), nik)).collect();
    rows.into_iter()
        .map(|row| {
            let (text, record) = row.into_record()?;
            let nik = by_text
                .get(text.as_str())
                .ok_or_else(|| StoreError::Corrupt("verification row not asked for".into()))?;
            Ok(((*nik).clone(), record))
        })
        .collect()
}

/// Parses a journal entry's stored JSON. On failure only the position and the kind of
/// error are reported: serde_json's own message can quote stored values (names, NIKs).
pub fn parse_journal_data(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "journal data unreadable ({:?} at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// The form region names are searched in: upper case, single spaces.
pub fn region_search_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}
