//! Verifying an identity claim against the registry without handing out personal data.
//!
//! An agency sends what a citizen told it (NIK, name, birth date, optionally birth place and
//! mother's name) and learns, per field, whether it matches (`sesuai`) and the record's
//! status. It never receives the registry's values, so verification cannot be used to read
//! the registry ("once-only" without copying data around).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::name::{self, NameMatch};
use crate::resident::ResidentStatus;

/// What an agency claims about a person. The NIK is kept as sent: an invalid NIK is a
/// verdict for that claim, not a failure of the whole batch.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IdentityClaim {
    pub nik: String,
    #[serde(rename = "nama")]
    pub full_name: String,
    #[serde(rename = "tanggal_lahir")]
    pub birth_date: NaiveDate,
    #[serde(rename = "tempat_lahir", default)]
    pub birth_place: Option<String>,
    #[serde(rename = "nama_ibu", default)]
    pub mother_name: Option<String>,
}

/// The registry values a verification compares against; the store reads only these.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub status: ResidentStatus,
    /// Where the resident lives: what the authorization gate decides a check on.
    pub kelurahan: crate::KodeWilayah,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub birth_place: String,
    pub mother_name: String,
}

/// Match or no match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Sesuai,
    TidakSesuai,
}

/// One field's verdict; for names, also how they matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldVerdict {
    pub hasil: Verdict,
    /// For text fields: `persis` (letter for letter), `normalisasi` (after folding case,
    /// spacing and punctuation) or `berbeda`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kecocokan: Option<NameMatch>,
}

impl FieldVerdict {
    fn of_name(claimed: &str, recorded: &str) -> Self {
        let kecocokan = name::compare(claimed, recorded);
        let hasil = if kecocokan == NameMatch::Berbeda {
            Verdict::TidakSesuai
        } else {
            Verdict::Sesuai
        };
        Self {
            hasil,
            kecocokan: Some(kecocokan),
        }
    }

    fn of_equality(equal: bool) -> Self {
        Self {
            hasil: if equal {
                Verdict::Sesuai
            } else {
                Verdict::TidakSesuai
            },
            kecocokan: None,
        }
    }
}

/// Whether the NIK names a record at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NikStatus {
    /// The NIK belongs to a record (of any status).
    Terdaftar,
    /// Well-formed, but no record has it.
    TidakTerdaftar,
    /// Not a valid NIK (see `alasan`).
    TidakValid,
}

/// The answer to one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationOutcome {
    pub status_nik: NikStatus,
    /// Why the NIK is not valid (an `IdNumberError` kind), when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alasan: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_penduduk: Option<ResidentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nama: Option<FieldVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tanggal_lahir: Option<FieldVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tempat_lahir: Option<FieldVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nama_ibu: Option<FieldVerdict>,
}

impl VerificationOutcome {
    /// The answer for a claim whose NIK failed validation.
    pub fn invalid_nik(kind: &'static str) -> Self {
        Self::bare(NikStatus::TidakValid, Some(kind))
    }

    /// The answer for a valid NIK that no record has.
    pub fn not_found() -> Self {
        Self::bare(NikStatus::TidakTerdaftar, None)
    }

    fn bare(status_nik: NikStatus, alasan: Option<&'static str>) -> Self {
        Self {
            status_nik,
            alasan,
            status_penduduk: None,
            nama: None,
            tanggal_lahir: None,
            tempat_lahir: None,
            nama_ibu: None,
        }
    }

    /// True when every field the claim carried matched.
    pub fn all_match(&self) -> bool {
        self.status_nik == NikStatus::Terdaftar
            && [
                self.nama,
                self.tanggal_lahir,
                self.tempat_lahir,
                self.nama_ibu,
            ]
            .iter()
            .flatten()
            .all(|v| v.hasil == Verdict::Sesuai)
    }
}

/// Compares a claim with the record its NIK names.
pub fn verify(claim: &IdentityClaim, record: &VerificationRecord) -> VerificationOutcome {
    VerificationOutcome {
        status_nik: NikStatus::Terdaftar,
        alasan: None,
        status_penduduk: Some(record.status),
        nama: Some(FieldVerdict::of_name(&claim.full_name, &record.full_name)),
        tanggal_lahir: Some(FieldVerdict::of_equality(
            claim.birth_date == record.birth_date,
        )),
        tempat_lahir: claim
            .birth_place
            .as_deref()
            .map(|p| FieldVerdict::of_name(p, &record.birth_place)),
        nama_ibu: claim
            .mother_name
            .as_deref()
            .map(|m| FieldVerdict::of_name(m, &record.mother_name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> VerificationRecord {
        VerificationRecord {
            status: ResidentStatus::Hidup,
            kelurahan: crate::KodeWilayah::parse("35.77.01.1001").unwrap(),
            full_name: "Siti Nur'aini".into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 8, 7).unwrap(),
            birth_place: "Madiun".into(),
            mother_name: "Sri Wahyuni".into(),
        }
    }

    fn claim(name: &str, mother: Option<&str>) -> IdentityClaim {
        IdentityClaim {
            nik: "3577014708900001".into(),
            full_name: name.into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 8, 7).unwrap(),
            birth_place: None,
            mother_name: mother.map(str::to_owned),
        }
    }

    #[test]
    fn exact_and_normalised_matches_are_told_apart() {
        let exact = verify(&claim("Siti Nur'aini", None), &record());
        assert_eq!(exact.nama.unwrap().kecocokan, Some(NameMatch::Persis));
        assert!(exact.all_match());
        let folded = verify(&claim("SITI NURAINI", Some("sri  wahyuni")), &record());
        assert_eq!(folded.nama.unwrap().kecocokan, Some(NameMatch::Normalisasi));
        assert_eq!(folded.nama_ibu.unwrap().hasil, Verdict::Sesuai);
        assert!(folded.tempat_lahir.is_none());
    }

    #[test]
    fn a_wrong_field_is_tidak_sesuai() {
        let wrong = verify(&claim("Siti Aminah", Some("Sri Wahyuni")), &record());
        assert_eq!(wrong.nama.unwrap().hasil, Verdict::TidakSesuai);
        assert!(!wrong.all_match());
    }

    #[test]
    fn outcome_carries_no_registry_values() {
        let json = serde_json::to_string(&verify(&claim("siti nuraini", None), &record())).unwrap();
        assert!(!json.contains("Siti") && !json.contains("1990") && !json.contains("Madiun"));
    }
}
