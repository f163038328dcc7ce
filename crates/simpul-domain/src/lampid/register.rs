//! Registration: the registry event a verified report becomes, and the numbers registration
//! issues (the child's NIK, a new family's KK number, the document number).
//!
//! Which serial is free is the store's to find (it probes the candidates in order inside
//! its transaction, where writers are serialised); everything else is decided here.

use crate::event::{
    BirthRegistered, DeathRegistered, MoveInRegistered, MoveOutRegistered, Registration,
};
use crate::registry::InMemoryRegistry;
use crate::resident::Resident;
use crate::{Citizenship, Education, MaritalStatus, RegistryEvent, Religion};

use super::*;

/// The document a registration issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Kutipan akta kelahiran.
    AktaKelahiran,
    /// Kutipan akta kematian.
    AktaKematian,
    /// Surat keterangan pindah (SKPWNI).
    SuratPindah,
    /// Surat keterangan datang (SKDWNI).
    SuratDatang,
}

impl DocumentKind {
    /// The register's short code, as Dukcapil numbers its documents.
    pub fn code(self) -> &'static str {
        match self {
            Self::AktaKelahiran => "LU",
            Self::AktaKematian => "KM",
            Self::SuratPindah => "SKPWNI",
            Self::SuratDatang => "SKDWNI",
        }
    }

    /// Every number of this kind issued by `kota` on `date` starts with this; the serial
    /// follows (`3577-LU-02122026-0001`).
    pub fn prefix(self, kota: &KodeWilayah, date: NaiveDate) -> String {
        format!(
            "{}-{}-{}-",
            kota.undotted(),
            self.code(),
            date.format("%d%m%Y")
        )
    }

    /// The number with `serial` after `prefix`.
    pub fn number(prefix: &str, serial: u32) -> String {
        format!("{prefix}{serial:04}")
    }

    /// The serial of a number with `prefix`, if it is one.
    pub fn serial_of(prefix: &str, number: &str) -> Option<u32> {
        number.strip_prefix(prefix)?.parse().ok()
    }
}

/// Why registration could not build its event (the report no longer fits the registry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Report(#[from] LampidError),
    #[error("nomor baru tidak tersedia (semua nomor urut telah terpakai)")]
    NumbersExhausted,
}

impl LampidPayload {
    /// The document registration issues for this report.
    pub fn document_kind(&self) -> DocumentKind {
        match self {
            Self::Kelahiran(_) => DocumentKind::AktaKelahiran,
            Self::Kematian(_) => DocumentKind::AktaKematian,
            Self::Pindah(_) => DocumentKind::SuratPindah,
            Self::Datang(_) => DocumentKind::SuratDatang,
        }
    }

    /// The kecamatan whose code a new NIK (birth) or KK number (new family on arrival)
    /// starts with, given the loaded registry; `None` when registration issues neither.
    pub fn numbering_kecamatan(&self, registry: &InMemoryRegistry) -> Option<KodeWilayah> {
        match self {
            Self::Kelahiran(k) => registry.family(&k.no_kk)?.address.kelurahan.parent(),
            Self::Datang(Datang {
                family: ArrivalFamily::KkBaru { address },
                ..
            }) => address.kelurahan.parent(),
            _ => None,
        }
    }

    /// The registry event that registers this report. `registry` holds the facts the
    /// report names (as for validation); `new_nik` is the child's free NIK for a birth and
    /// `new_no_kk` the new family's free KK number for arrivals founding one.
    pub fn registration_event(
        &self,
        registry: &InMemoryRegistry,
        registration: Registration,
        new_nik: Option<Nik>,
        new_no_kk: Option<NoKk>,
    ) -> Result<RegistryEvent, RegistrationError> {
        Ok(match self {
            Self::Kelahiran(k) => {
                let nik = new_nik.ok_or(RegistrationError::NumbersExhausted)?;
                RegistryEvent::KelahiranTercatat(BirthRegistered {
                    registration,
                    child: k.child(nik, registry)?,
                })
            }
            Self::Kematian(k) => RegistryEvent::KematianTercatat(DeathRegistered {
                registration,
                nik: k.nik.clone(),
                date: k.date,
                new_head: k.new_head.clone(),
            }),
            Self::Pindah(p) => {
                let (movers, new_head) = match &p.scope {
                    MoveScope::SeluruhKeluarga => (
                        registry
                            .family(&p.no_kk)
                            .map(|f| f.member_niks().cloned().collect())
                            .unwrap_or_default(),
                        None,
                    ),
                    MoveScope::Sebagian { members, new_head } => {
                        (members.clone(), new_head.clone())
                    }
                };
                RegistryEvent::PindahTercatat(MoveOutRegistered {
                    registration,
                    no_kk: p.no_kk.clone(),
                    movers,
                    destination: p.destination.clone(),
                    new_head,
                })
            }
            Self::Datang(d) => {
                let (no_kk, new_family) = match &d.family {
                    ArrivalFamily::GabungKk { no_kk } => (no_kk.clone(), None),
                    ArrivalFamily::KkBaru { address } => (
                        new_no_kk.ok_or(RegistrationError::NumbersExhausted)?,
                        Some(address.clone()),
                    ),
                };
                let arrivals = d
                    .arrivals
                    .iter()
                    .enumerate()
                    .map(|(i, a)| a.record(&no_kk, registry, i + 1))
                    .collect::<Result<_, _>>()?;
                RegistryEvent::DatangTercatat(MoveInRegistered {
                    registration,
                    no_kk,
                    new_family,
                    arrivals,
                })
            }
        })
    }
}

/// Occupation recorded for a newborn, as family cards print it.
const NOT_WORKING: &str = "Belum/Tidak Bekerja";

impl Kelahiran {
    /// The child's record: the family's KK, *anak*, the mother's religion (or the head's
    /// when the mother is not in the registry), parents' names from their records.
    fn child(&self, nik: Nik, registry: &InMemoryRegistry) -> Result<Resident, LampidError> {
        let family = registry
            .family(&self.no_kk)
            .ok_or(LampidError::FamilyNotFound { field: "no_kk" })?;
        let mother = registry.resident(&self.mother_nik);
        let father = self.father_nik.as_ref().and_then(|n| registry.resident(n));
        let religion = mother
            .or_else(|| family.head())
            .map_or(Religion::Islam, |r| r.religion);
        let mother_name = mother
            .map(|m| m.full_name.clone())
            .or_else(|| self.mother_name.clone())
            .ok_or(LampidError::Empty { field: "nama_ibu" })?;
        let father_name = father
            .map(|f| f.full_name.clone())
            .or_else(|| self.father_name.clone())
            .unwrap_or_default();
        Ok(Resident {
            nik,
            no_kk: self.no_kk.clone(),
            full_name: self.child_name.trim().to_owned(),
            sex: self.sex,
            birth_place: self.birth_place.trim().to_owned(),
            birth_date: self.birth_date,
            religion,
            marital_status: MaritalStatus::BelumKawin,
            relationship: FamilyRelationship::Anak,
            education: Education::TidakBelumSekolah,
            occupation: NOT_WORKING.to_owned(),
            father_name,
            mother_name,
            citizenship: Citizenship::Wni,
            status: ResidentStatus::Hidup,
            departure: None,
        })
    }
}

impl Arrival {
    /// The arrival's record on `no_kk`: the registry's own record when it holds one,
    /// otherwise the biodata from the move letter.
    fn record(
        &self,
        no_kk: &NoKk,
        registry: &InMemoryRegistry,
        index: usize,
    ) -> Result<Resident, LampidError> {
        let base = match (registry.resident(&self.nik), &self.biodata) {
            (Some(known), _) => known.clone(),
            (None, Some(b)) => b.resident(&self.nik, no_kk),
            (None, None) => return Err(LampidError::BiodataRequired { index }),
        };
        Ok(Resident {
            no_kk: no_kk.clone(),
            relationship: self.relationship,
            status: ResidentStatus::Hidup,
            departure: None,
            ..base
        })
    }
}

impl ArrivalBiodata {
    /// A record from the biodata, for the person with this NIK (sex from the NIK) on
    /// `no_kk`.
    pub fn resident(&self, nik: &Nik, no_kk: &NoKk) -> Resident {
        Resident {
            nik: nik.clone(),
            no_kk: no_kk.clone(),
            full_name: self.full_name.trim().to_owned(),
            sex: nik.sex(),
            birth_place: self.birth_place.trim().to_owned(),
            birth_date: self.birth_date,
            religion: self.religion,
            marital_status: self.marital_status,
            relationship: FamilyRelationship::Lainnya,
            education: self.education,
            occupation: self.occupation.trim().to_owned(),
            father_name: self.father_name.trim().to_owned(),
            mother_name: self.mother_name.trim().to_owned(),
            citizenship: self.citizenship,
            status: ResidentStatus::Hidup,
            departure: None,
        }
    }
}

/// Serials 1 to 9999 in the order they are tried: those after `hint` (the last one given),
/// then from 1, so a hint kept by the store makes the usual search one probe, and a missing
/// or stale hint still finds every free serial.
pub fn serials_after(hint: u16) -> impl Iterator<Item = u16> {
    let hint = hint.min(9999);
    (hint + 1..=9999).chain(1..=hint)
}

/// The NIKs a child born on `birth_date` in `kecamatan` may get, in the order they are
/// tried (see [`serials_after`]).
pub fn nik_candidates(
    kecamatan: &KodeWilayah,
    birth_date: NaiveDate,
    sex: Sex,
    hint: u16,
) -> impl Iterator<Item = Nik> + '_ {
    serials_after(hint).filter_map(move |serial| Nik::compose(kecamatan, birth_date, sex, serial))
}

/// The KK numbers a family founded in `kecamatan` on `date` may get, in order.
pub fn no_kk_candidates(
    kecamatan: &KodeWilayah,
    date: NaiveDate,
    hint: u16,
) -> impl Iterator<Item = NoKk> + '_ {
    serials_after(hint).filter_map(move |serial| NoKk::compose(kecamatan, date, serial))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_start_after_the_hint_and_wrap() {
        let order: Vec<u16> = serials_after(9997).take(4).collect();
        assert_eq!(order, [9998, 9999, 1, 2]);
        assert_eq!(serials_after(0).next(), Some(1));
        assert_eq!(serials_after(0).count(), 9999);
        assert_eq!(serials_after(500).count(), 9999);
        assert_eq!(serials_after(60000).next(), Some(1));
    }

    #[test]
    fn document_numbers_carry_city_kind_date_and_serial() {
        let kota = KodeWilayah::parse("35.77").unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let prefix = DocumentKind::AktaKelahiran.prefix(&kota, date);
        assert_eq!(prefix, "3577-LU-02122026-");
        let number = DocumentKind::number(&prefix, 12);
        assert_eq!(number, "3577-LU-02122026-0012");
        assert_eq!(DocumentKind::serial_of(&prefix, &number), Some(12));
        assert_eq!(DocumentKind::serial_of("3577-KM-", &number), None);
    }
}
