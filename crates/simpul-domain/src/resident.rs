//! Residents (penduduk): the biodata a family card records for each member.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{Citizenship, Education, FamilyRelationship, MaritalStatus, Religion, Sex};
use crate::nik::{Nik, NoKk};
use crate::wilayah::{KodeWilayah, RegionLevel};

/// Longest name a family card prints; longer input is a data-entry error.
pub const MAX_NAME_LEN: usize = 120;

/// Whether the person is still a resident of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResidentStatus {
    /// Living and registered here.
    Hidup,
    /// Deceased (death registered).
    Meninggal,
    /// Moved out of the registry's area.
    Pindah,
}

impl ResidentStatus {
    pub fn as_code(self) -> &'static str {
        match self {
            Self::Hidup => "hidup",
            Self::Meninggal => "meninggal",
            Self::Pindah => "pindah",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "hidup" => Some(Self::Hidup),
            "meninggal" => Some(Self::Meninggal),
            "pindah" => Some(Self::Pindah),
            _ => None,
        }
    }
}

/// A family's address: street line, neighbourhood numbers and kelurahan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    /// Street and house number.
    #[serde(rename = "alamat")]
    pub street: String,
    pub rt: u16,
    pub rw: u16,
    /// Kelurahan or desa code (four-part).
    #[serde(rename = "kelurahan")]
    pub kelurahan: KodeWilayah,
}

/// One person's biodata as the family card records it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resident {
    pub nik: Nik,
    pub no_kk: NoKk,
    #[serde(rename = "nama_lengkap")]
    pub full_name: String,
    #[serde(rename = "jenis_kelamin")]
    pub sex: Sex,
    #[serde(rename = "tempat_lahir")]
    pub birth_place: String,
    #[serde(rename = "tanggal_lahir")]
    pub birth_date: NaiveDate,
    #[serde(rename = "agama")]
    pub religion: Religion,
    #[serde(rename = "status_perkawinan")]
    pub marital_status: MaritalStatus,
    #[serde(rename = "hubungan_keluarga")]
    pub relationship: FamilyRelationship,
    #[serde(rename = "pendidikan")]
    pub education: Education,
    #[serde(rename = "pekerjaan")]
    pub occupation: String,
    #[serde(rename = "nama_ayah")]
    pub father_name: String,
    #[serde(rename = "nama_ibu")]
    pub mother_name: String,
    #[serde(rename = "kewarganegaraan")]
    pub citizenship: Citizenship,
    pub status: ResidentStatus,
    /// How and when a resident who is no longer living here left: set with
    /// [`ResidentStatus::Meninggal`] or [`ResidentStatus::Pindah`], absent otherwise.
    #[serde(rename = "keluar", default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
}

/// How a resident left the registry's living population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "jenis", rename_all = "snake_case")]
pub enum Departure {
    /// Died on this date (the registered death).
    Meninggal {
        #[serde(rename = "tanggal")]
        date: NaiveDate,
    },
    /// Moved out on this date (the move letter's date) to this address.
    Pindah {
        #[serde(rename = "tanggal")]
        date: NaiveDate,
        #[serde(rename = "alamat_tujuan")]
        destination: Address,
    },
}

impl Departure {
    /// The status a resident who left this way has.
    pub fn status(&self) -> ResidentStatus {
        match self {
            Self::Meninggal { .. } => ResidentStatus::Meninggal,
            Self::Pindah { .. } => ResidentStatus::Pindah,
        }
    }
}

impl std::fmt::Debug for Resident {
    /// Only the redacted NIK and the status: biodata never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("nik", &self.nik)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Why a resident's biodata is inconsistent on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BiodataError {
    #[error("{field} kosong")]
    Empty { field: &'static str },
    #[error("{field} lebih dari {MAX_NAME_LEN} karakter")]
    TooLong { field: &'static str },
    #[error("jenis kelamin tidak sesuai dengan NIK")]
    SexDisagreesWithNik,
    #[error("tanggal lahir tidak sesuai dengan NIK")]
    BirthDateDisagreesWithNik,
    #[error("tanggal lahir di masa depan")]
    BornInFuture,
    #[error("RT dan RW harus 1 sampai 999")]
    NeighbourhoodOutOfRange,
    #[error("alamat harus menunjuk kelurahan/desa, bukan {0:?}")]
    NotAVillage(RegionLevel),
}

impl BiodataError {
    /// The API field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field } | Self::TooLong { field } => field,
            Self::SexDisagreesWithNik => "jenis_kelamin",
            Self::BirthDateDisagreesWithNik | Self::BornInFuture => "tanggal_lahir",
            Self::NeighbourhoodOutOfRange => "rt",
            Self::NotAVillage(_) => "kelurahan",
        }
    }
}

impl Resident {
    /// Checks the rules a single record must satisfy, whatever the rest of the registry holds.
    pub fn check(&self, today: NaiveDate) -> Result<(), BiodataError> {
        for (field, value) in [
            ("nama_lengkap", &self.full_name),
            ("tempat_lahir", &self.birth_place),
            ("nama_ibu", &self.mother_name),
        ] {
            if value.trim().is_empty() {
                return Err(BiodataError::Empty { field });
            }
        }
        for (field, value) in [
            ("nama_lengkap", &self.full_name),
            ("tempat_lahir", &self.birth_place),
            ("nama_ayah", &self.father_name),
            ("nama_ibu", &self.mother_name),
            ("pekerjaan", &self.occupation),
        ] {
            if value.chars().count() > MAX_NAME_LEN {
                return Err(BiodataError::TooLong { field });
            }
        }
        if self.nik.sex() != self.sex {
            return Err(BiodataError::SexDisagreesWithNik);
        }
        if !self.nik.matches_birth_date(self.birth_date) {
            return Err(BiodataError::BirthDateDisagreesWithNik);
        }
        if self.birth_date > today {
            return Err(BiodataError::BornInFuture);
        }
        Ok(())
    }
}

impl Address {
    pub fn check(&self) -> Result<(), BiodataError> {
        if !(1..=999).contains(&self.rt) || !(1..=999).contains(&self.rw) {
            return Err(BiodataError::NeighbourhoodOutOfRange);
        }
        if self.kelurahan.level() != RegionLevel::KelurahanDesa {
            return Err(BiodataError::NotAVillage(self.kelurahan.level()));
        }
        if self.street.chars().count() > MAX_NAME_LEN {
            return Err(BiodataError::TooLong { field: "alamat" });
        }
        Ok(())
    }
}
