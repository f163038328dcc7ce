//! Plain row shapes shared by the backends, and their conversion to and from domain values.
//!
//! A backend reads columns into these structs (strings and integers only) and lets this
//! module parse them back through the domain constructors, so both backends interpret
//! stored data identically and a bad row becomes [`StoreError::Corrupt`] in one place.

use chrono::NaiveDate;
use simpul_domain::verification::VerificationRecord;
use simpul_domain::wilayah::{Region, RegionLevel};
use simpul_domain::{
    Address, Citizenship, Departure, Education, FamilyRelationship, KodeWilayah, MaritalStatus,
    Nik, NoKk, Religion, Resident, ResidentStatus, Sex,
};

use crate::vault::Vault;
use crate::{ResidentSummary, StoreError};

/// The resident columns in the order every backend selects them. Personal fields are in
/// the sealed `pii` column (see [`crate::vault`]); the rest are codes and regions.
pub const RESIDENT_COLUMNS: &str = "nik_index, no_kk_index, pii, sex, religion, \
     marital_status, relationship, education, citizenship, status, kelurahan, kecamatan, \
     position, birth_date_index";

/// The family columns in the order every backend selects them.
pub const FAMILY_COLUMNS: &str = "no_kk_index, pii, rt, rw, kelurahan, head_nik_index";

/// Table and column names sealed values are bound to (part of their associated data).
pub const RESIDENTS: &str = "residents";
pub const FAMILIES: &str = "families";
pub const JOURNAL: &str = "journal";
pub const PII: &str = "pii";
pub const DATA: &str = "data";

/// A resident's personal fields: sealed together as one value.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ResidentPii {
    nik: String,
    no_kk: String,
    nama: String,
    tempat_lahir: String,
    tanggal_lahir: NaiveDate,
    pekerjaan: String,
    ayah: String,
    ibu: String,
    /// How a resident who left did (with the destination address of a move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keluar: Option<Departure>,
}

/// A family's personal fields: sealed together as one value.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct FamilyPii {
    no_kk: String,
    jalan: String,
}

/// One `residents` row.
#[derive(Debug, Clone)]
pub struct ResidentRow {
    pub nik_index: String,
    pub no_kk_index: String,
    /// Sealed [`ResidentPii`].
    pub pii: String,
    pub sex: String,
    pub religion: String,
    pub marital_status: String,
    pub relationship: String,
    pub education: String,
    pub citizenship: String,
    pub status: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub position: i64,
    pub birth_date_index: String,
}

/// One `families` row.
#[derive(Debug, Clone)]
pub struct FamilyRow {
    pub no_kk_index: String,
    /// Sealed [`FamilyPii`].
    pub pii: String,
    pub rt: i64,
    pub rw: i64,
    pub kelurahan: String,
    pub head_nik_index: String,
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
    /// The row for `resident`, sealed and blinded with `vault`, and the blind indexes of
    /// its name words (for the name-token table).
    pub fn from_domain(
        resident: &Resident,
        address: &Address,
        position: usize,
        vault: &Vault,
    ) -> Result<(Self, Vec<String>), StoreError> {
        let nik_index = vault.nik_index(&resident.nik);
        let pii = ResidentPii {
            nik: resident.nik.as_str().to_owned(),
            no_kk: resident.no_kk.as_str().to_owned(),
            nama: resident.full_name.clone(),
            tempat_lahir: resident.birth_place.clone(),
            tanggal_lahir: resident.birth_date,
            pekerjaan: resident.occupation.clone(),
            ayah: resident.father_name.clone(),
            ibu: resident.mother_name.clone(),
            keluar: resident.departure.clone(),
        };
        let row = Self {
            pii: vault.seal_json(RESIDENTS, PII, &nik_index, &pii)?,
            no_kk_index: vault.no_kk_index(&resident.no_kk),
            birth_date_index: vault.birth_date_index(resident.birth_date),
            sex: resident.sex.as_code().to_owned(),
            religion: resident.religion.as_code().to_owned(),
            marital_status: resident.marital_status.as_code().to_owned(),
            relationship: resident.relationship.as_code().to_owned(),
            education: resident.education.as_code().to_owned(),
            citizenship: resident.citizenship.as_code().to_owned(),
            status: resident.status.as_code().to_owned(),
            kelurahan: address.kelurahan.as_str().to_owned(),
            kecamatan: address
                .kelurahan
                .parent()
                .map(String::from)
                .unwrap_or_default(),
            position: position as i64,
            nik_index,
        };
        Ok((row, vault.name_indexes(&resident.full_name)))
    }

    fn open(&self, vault: &Vault) -> Result<ResidentPii, StoreError> {
        vault.open_json(RESIDENTS, PII, &self.nik_index, &self.pii)
    }

    pub fn into_resident(self, vault: &Vault) -> Result<Resident, StoreError> {
        let pii = self.open(vault)?;
        Ok(Resident {
            nik: parse_nik(&pii.nik)?,
            no_kk: parse_no_kk(&pii.no_kk)?,
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
            full_name: pii.nama,
            birth_place: pii.tempat_lahir,
            birth_date: pii.tanggal_lahir,
            occupation: pii.pekerjaan,
            father_name: pii.ayah,
            mother_name: pii.ibu,
            departure: pii.keluar,
        })
    }

    pub fn into_summary(self, vault: &Vault) -> Result<ResidentSummary, StoreError> {
        let pii = self.open(vault)?;
        Ok(ResidentSummary {
            nik: parse_nik(&pii.nik)?,
            no_kk: parse_no_kk(&pii.no_kk)?,
            jenis_kelamin: coded("sex", &self.sex, Sex::from_code)?,
            status: coded("status", &self.status, ResidentStatus::from_code)?,
            kelurahan: parse_code(&self.kelurahan)?,
            nama_lengkap: pii.nama,
            tanggal_lahir: pii.tanggal_lahir,
        })
    }
}

impl FamilyRow {
    pub fn from_domain(family: &simpul_domain::Family, vault: &Vault) -> Result<Self, StoreError> {
        Self::from_card(
            &family.no_kk,
            &family.address,
            family.head().map(|h| &h.nik),
            vault,
        )
    }

    /// The row for a family card; `head` is absent for a card whose members all left.
    pub fn from_card(
        no_kk: &NoKk,
        address: &Address,
        head: Option<&Nik>,
        vault: &Vault,
    ) -> Result<Self, StoreError> {
        let no_kk_index = vault.no_kk_index(no_kk);
        let pii = FamilyPii {
            no_kk: no_kk.as_str().to_owned(),
            jalan: address.street.clone(),
        };
        Ok(Self {
            pii: vault.seal_json(FAMILIES, PII, &no_kk_index, &pii)?,
            rt: i64::from(address.rt),
            rw: i64::from(address.rw),
            kelurahan: address.kelurahan.as_str().to_owned(),
            head_nik_index: head.map(|h| vault.nik_index(h)).unwrap_or_default(),
            no_kk_index,
        })
    }

    pub fn into_address(self, vault: &Vault) -> Result<Address, StoreError> {
        Ok(self.into_card(vault)?.1)
    }

    /// The KK number and the address.
    pub fn into_card(self, vault: &Vault) -> Result<(NoKk, Address), StoreError> {
        let pii: FamilyPii = vault.open_json(FAMILIES, PII, &self.no_kk_index, &self.pii)?;
        let neighbourhood =
            |v: i64| u16::try_from(v).map_err(|_| StoreError::Corrupt("RT/RW out of range".into()));
        Ok((
            parse_no_kk(&pii.no_kk)?,
            Address {
                street: pii.jalan,
                rt: neighbourhood(self.rt)?,
                rw: neighbourhood(self.rw)?,
                kelurahan: parse_code(&self.kelurahan)?,
            },
        ))
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
pub const VERIFICATION_COLUMNS: &str = "nik_index, status, kelurahan, pii";

/// One resident's verification view as stored, in [`VERIFICATION_COLUMNS`] order. It
/// deserialises from a JSON array too, which SQLite uses to return a whole batch in one
/// value instead of one row at a time.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct VerificationRow(pub String, pub String, pub String, pub String);

impl VerificationRow {
    /// The row's NIK index and the record.
    pub fn into_record(self, vault: &Vault) -> Result<(String, VerificationRecord), StoreError> {
        let Self(nik_index, status, kelurahan, pii) = self;
        let pii: ResidentPii = vault.open_json(RESIDENTS, PII, &nik_index, &pii)?;
        Ok((
            nik_index,
            VerificationRecord {
                status: coded("status", &status, ResidentStatus::from_code)?,
                kelurahan: parse_code(&kelurahan)?,
                full_name: pii.nama,
                birth_date: pii.tanggal_lahir,
                birth_place: pii.tempat_lahir,
                mother_name: pii.ibu,
            },
        ))
    }
}

/// The blind index of each NIK asked for, in order: what a backend looks rows up by.
pub fn nik_indexes(niks: &[Nik], vault: &Vault) -> Vec<String> {
    niks.iter().map(|nik| vault.nik_index(nik)).collect()
}

/// Keys `rows` by the NIKs that were asked for (`indexes` are their blind indexes, in the
/// same order); a row for a NIK not asked for means the query is wrong, which is reported
/// rather than ignored.
pub fn verification_map(
    asked: &[Nik],
    indexes: &[String],
    rows: impl IntoIterator<Item = VerificationRow>,
    vault: &Vault,
) -> Result<std::collections::HashMap<Nik, VerificationRecord>, StoreError> {
    let by_index: std::collections::HashMap<&str, &Nik> =
        indexes.iter().map(String::as_str).zip(asked).collect();
    rows.into_iter()
        .map(|row| {
            let (index, record) = row.into_record(vault)?;
            let nik = by_index
                .get(index.as_str())
                .ok_or_else(|| StoreError::Corrupt("verification row not asked for".into()))?;
            Ok(((*nik).clone(), record))
        })
        .collect()
}

/// Opens a journal entry's sealed event. On failure only the position and the kind of
/// error are reported: serde_json's own message can quote stored values (names, NIKs).
pub fn open_journal_data(
    sequence: i64,
    sealed: &str,
    vault: &Vault,
) -> Result<serde_json::Value, StoreError> {
    vault.open_json(JOURNAL, DATA, &sequence.to_string(), sealed)
}

/// The form region names are searched in: upper case, single spaces.
pub fn region_search_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}
