//! Checking a payload against the registry's facts: the rules, and why each refusal is.

use super::*;

/// Days a birth may be reported without being late (UU 24/2013 art. 27).
pub const BIRTH_REPORT_DAYS: i64 = 60;
/// Days a death may be reported without being late (UU 24/2013 art. 44).
pub const DEATH_REPORT_DAYS: i64 = 30;
/// A mother at least this many years older than the child: a younger one is a data-entry
/// error (a swapped NIK), not a fact.
pub const MIN_MOTHER_AGE_YEARS: u32 = 10;
/// Longest move-letter number accepted; SKPWNI numbers are about 30 characters.
pub const MAX_MOVE_LETTER_LEN: usize = 64;

/// What the registry says about one person the payload names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    /// Living, deceased or moved out.
    pub status: ResidentStatus,
    /// Sex as the record states it (the NIK agrees for a valid record).
    pub sex: Sex,
    /// Birth date as the record states it.
    pub birth_date: NaiveDate,
    /// The kelurahan of the family the person belongs (or last belonged) to.
    pub kelurahan: KodeWilayah,
    /// The family card the person is (or was last) on.
    pub no_kk: NoKk,
    /// When the person died, if the death is registered.
    pub died_on: Option<NaiveDate>,
}

/// What the registry says about one family card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyFacts {
    /// The kelurahan of the family's address.
    pub kelurahan: KodeWilayah,
    /// The living members and their place in the family.
    pub members: Vec<(Nik, FamilyRelationship)>,
}

impl FamilyFacts {
    fn has_member(&self, nik: &Nik) -> bool {
        self.members.iter().any(|(m, _)| m == nik)
    }

    fn head(&self) -> Option<&Nik> {
        self.members
            .iter()
            .find(|(_, r)| *r == FamilyRelationship::KepalaKeluarga)
            .map(|(nik, _)| nik)
    }
}

/// The facts a store reads, inside its transaction, before validating a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LampidFacts {
    /// The kelurahan of the operator who submits.
    pub submitting_kelurahan: KodeWilayah,
    /// Records of the referenced NIKs that the registry holds.
    pub persons: HashMap<Nik, PersonFacts>,
    /// The referenced families, and the families of the persons found, that exist.
    pub families: HashMap<NoKk, FamilyFacts>,
    /// Of the referenced region codes, those present in the master data.
    pub known_regions: HashSet<KodeWilayah>,
}

impl LampidFacts {
    /// Facts with nothing known yet, for the given submitting kelurahan.
    pub fn new(submitting_kelurahan: KodeWilayah) -> Self {
        Self {
            submitting_kelurahan,
            persons: HashMap::new(),
            families: HashMap::new(),
            known_regions: HashSet::new(),
        }
    }

    /// The city (kabupaten/kota) the submitting kelurahan lies in.
    fn city(&self) -> Option<KodeWilayah> {
        self.submitting_kelurahan.parent().and_then(|k| k.parent())
    }
}

/// What validation concludes about a payload it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// Reported after the legal deadline: accepted, but the fine applies.
    #[serde(rename = "terlambat")]
    pub late: bool,
}

/// Why a payload was refused. Each variant has a stable [`code`](Self::code) and names
/// the API [`field`](Self::field) at fault, with a 1-based [`index`](Self::index) into a
/// list field. Messages never contain a name or a NIK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LampidError {
    #[error("{field} kosong")]
    Empty { field: &'static str },
    #[error("{field} terlalu panjang")]
    TooLong { field: &'static str },
    #[error("{field} di masa depan")]
    DateInFuture { field: &'static str },
    #[error("tanggal kematian sebelum tanggal lahir")]
    DeathBeforeBirth,
    #[error("NIK ibu bukan milik perempuan")]
    MotherNotFemale,
    #[error("ibu tidak hidup pada tanggal kelahiran")]
    MotherNotAlive,
    #[error("ibu kurang dari {MIN_MOTHER_AGE_YEARS} tahun lebih tua dari anak")]
    MotherTooYoung,
    #[error("NIK ayah bukan milik laki-laki")]
    FatherNotMale,
    #[error("nomor KK tidak terdaftar")]
    FamilyNotFound { field: &'static str },
    #[error("NIK tidak terdaftar di wilayah ini")]
    ResidentNotFound {
        field: &'static str,
        index: Option<usize>,
    },
    #[error("penduduk atau keluarga tidak berada di kelurahan pengaju")]
    OutsideKelurahan {
        field: &'static str,
        index: Option<usize>,
    },
    #[error("penduduk sudah tercatat meninggal")]
    AlreadyDeceased {
        field: &'static str,
        index: Option<usize>,
    },
    #[error("penduduk sudah tercatat pindah")]
    AlreadyMoved {
        field: &'static str,
        index: Option<usize>,
    },
    #[error("penduduk sudah terdaftar hidup di kota ini")]
    AlreadyResident { index: usize },
    #[error("penduduk sudah menjadi anggota KK tujuan")]
    AlreadyInFamily { index: usize },
    #[error("penduduk bukan anggota KK ini")]
    NotFamilyMember {
        field: &'static str,
        index: Option<usize>,
    },
    #[error("NIK disebut dua kali")]
    DuplicateNik { field: &'static str, index: usize },
    #[error("daftar anggota kosong")]
    NoMembers { field: &'static str },
    #[error("kepala keluarga baru wajib ditunjuk bagi anggota yang tetap")]
    NewHeadRequired { field: &'static str },
    #[error("kepala keluarga baru harus anggota yang tetap tinggal")]
    NewHeadNotInFamily { field: &'static str },
    #[error("kepala keluarga baru hanya ditunjuk bila kepala keluarga keluar")]
    NewHeadNotNeeded { field: &'static str },
    #[error("harus ada tepat {expected} kepala keluarga, ditemukan {found}")]
    HeadCount { expected: usize, found: usize },
    #[error("kode wilayah tidak ada dalam data wilayah")]
    UnknownRegion { field: &'static str },
    #[error("kode wilayah harus kelurahan/desa, bukan {}", .found.as_code())]
    NotAVillage {
        field: &'static str,
        found: RegionLevel,
    },
    #[error("RT dan RW harus 1 sampai 999")]
    NeighbourhoodOutOfRange { field: &'static str },
    #[error("kelurahan asal berada di kota ini; gunakan asal dalam_kota")]
    OriginInCity,
    #[error("nomor surat pindah hanya boleh huruf, angka, spasi dan . / -")]
    MalformedMoveLetter,
    #[error(
        "kepala keluarga masih memiliki anggota di KK asal; catat pindah dengan kepala baru dahulu"
    )]
    HeadLeavesMembers { index: usize },
    #[error("biodata wajib diisi bagi pendatang yang belum pernah terdaftar")]
    BiodataRequired { index: usize },
    #[error("tanggal lahir pada biodata tidak sesuai dengan NIK")]
    BiodataDisagrees { index: usize },
}

impl LampidError {
    /// Stable machine-readable code for the problem+json body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty { .. } => "empty_field",
            Self::TooLong { .. } => "field_too_long",
            Self::DateInFuture { .. } => "date_in_future",
            Self::DeathBeforeBirth => "death_before_birth",
            Self::MotherNotFemale => "mother_not_female",
            Self::MotherNotAlive => "mother_not_alive",
            Self::MotherTooYoung => "mother_too_young",
            Self::FatherNotMale => "father_not_male",
            Self::FamilyNotFound { .. } => "family_not_found",
            Self::ResidentNotFound { .. } => "resident_not_found",
            Self::OutsideKelurahan { .. } => "outside_kelurahan",
            Self::AlreadyDeceased { .. } => "already_deceased",
            Self::AlreadyMoved { .. } => "already_moved",
            Self::AlreadyResident { .. } => "already_resident",
            Self::AlreadyInFamily { .. } => "already_in_family",
            Self::NotFamilyMember { .. } => "not_family_member",
            Self::DuplicateNik { .. } => "duplicate_nik",
            Self::NoMembers { .. } => "no_members",
            Self::NewHeadRequired { .. } => "new_head_required",
            Self::NewHeadNotInFamily { .. } => "new_head_not_in_family",
            Self::NewHeadNotNeeded { .. } => "new_head_not_needed",
            Self::HeadCount { .. } => "head_count",
            Self::UnknownRegion { .. } => "unknown_region",
            Self::NotAVillage { .. } => "not_a_village",
            Self::NeighbourhoodOutOfRange { .. } => "neighbourhood_out_of_range",
            Self::OriginInCity => "origin_in_city",
            Self::MalformedMoveLetter => "malformed_move_letter",
            Self::HeadLeavesMembers { .. } => "head_leaves_members",
            Self::BiodataRequired { .. } => "biodata_required",
            Self::BiodataDisagrees { .. } => "biodata_disagrees",
        }
    }

    /// The API field at fault, named as in the payload (nested fields joined with `.`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field }
            | Self::DateInFuture { field }
            | Self::FamilyNotFound { field }
            | Self::ResidentNotFound { field, .. }
            | Self::OutsideKelurahan { field, .. }
            | Self::AlreadyDeceased { field, .. }
            | Self::AlreadyMoved { field, .. }
            | Self::NotFamilyMember { field, .. }
            | Self::DuplicateNik { field, .. }
            | Self::NoMembers { field }
            | Self::NewHeadRequired { field }
            | Self::NewHeadNotInFamily { field }
            | Self::NewHeadNotNeeded { field }
            | Self::UnknownRegion { field }
            | Self::NotAVillage { field, .. }
            | Self::NeighbourhoodOutOfRange { field } => field,
            Self::DeathBeforeBirth => "tanggal_kematian",
            Self::MotherNotFemale | Self::MotherNotAlive | Self::MotherTooYoung => "nik_ibu",
            Self::FatherNotMale => "nik_ayah",
            Self::AlreadyResident { .. }
            | Self::AlreadyInFamily { .. }
            | Self::HeadLeavesMembers { .. }
            | Self::HeadCount { .. } => "anggota",
            Self::BiodataRequired { .. } | Self::BiodataDisagrees { .. } => "anggota.biodata",
            Self::OriginInCity => "asal.kelurahan_asal",
            Self::MalformedMoveLetter => "asal.nomor_surat_pindah",
        }
    }

    /// The 1-based position in the list [`field`](Self::field) names, when it is a list.
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::ResidentNotFound { index, .. }
            | Self::OutsideKelurahan { index, .. }
            | Self::AlreadyDeceased { index, .. }
            | Self::AlreadyMoved { index, .. }
            | Self::NotFamilyMember { index, .. } => *index,
            Self::AlreadyResident { index }
            | Self::AlreadyInFamily { index }
            | Self::HeadLeavesMembers { index }
            | Self::BiodataRequired { index }
            | Self::BiodataDisagrees { index }
            | Self::DuplicateNik { index, .. } => Some(*index),
            _ => None,
        }
    }
}

impl LampidPayload {
    /// Checks the payload against the registry's facts and today's date. Returns the first
    /// rule broken, in the order a form is filled in, or the [`Assessment`] of an accepted
    /// report.
    pub fn validate(
        &self,
        facts: &LampidFacts,
        today: NaiveDate,
    ) -> Result<Assessment, LampidError> {
        match self {
            Self::Kelahiran(k) => k.validate(facts, today),
            Self::Kematian(k) => k.validate(facts, today),
            Self::Pindah(p) => p.validate(facts).map(|()| Assessment { late: false }),
            Self::Datang(d) => d.validate(facts).map(|()| Assessment { late: false }),
        }
    }
}

fn check_text(field: &'static str, value: &str) -> Result<(), LampidError> {
    if value.trim().is_empty() {
        return Err(LampidError::Empty { field });
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(LampidError::TooLong { field });
    }
    Ok(())
}

/// True when `date` is more than `days` days before `today`.
fn is_late(date: NaiveDate, today: NaiveDate, days: i64) -> bool {
    (today - date).num_days() > days
}

/// A family that exists and lies in the submitting kelurahan.
fn local_family<'a>(
    facts: &'a LampidFacts,
    no_kk: &NoKk,
    field: &'static str,
) -> Result<&'a FamilyFacts, LampidError> {
    let family = facts
        .families
        .get(no_kk)
        .ok_or(LampidError::FamilyNotFound { field })?;
    if family.kelurahan != facts.submitting_kelurahan {
        return Err(LampidError::OutsideKelurahan { field, index: None });
    }
    Ok(family)
}

/// A person the registry holds who is alive; `index` places them in a list field.
fn living_person<'a>(
    facts: &'a LampidFacts,
    nik: &Nik,
    field: &'static str,
    index: Option<usize>,
) -> Result<&'a PersonFacts, LampidError> {
    let person = facts
        .persons
        .get(nik)
        .ok_or(LampidError::ResidentNotFound { field, index })?;
    match person.status {
        ResidentStatus::Hidup => Ok(person),
        ResidentStatus::Meninggal => Err(LampidError::AlreadyDeceased { field, index }),
        ResidentStatus::Pindah => Err(LampidError::AlreadyMoved { field, index }),
    }
}

/// The duplicate's 1-based position, if any NIK repeats.
fn first_duplicate<'a>(niks: impl IntoIterator<Item = &'a Nik>) -> Option<usize> {
    let mut seen = HashSet::new();
    niks.into_iter()
        .position(|nik| !seen.insert(nik))
        .map(|i| i + 1)
}

fn check_address(
    address: &Address,
    facts: &LampidFacts,
    prefix: &'static str,
    street_field: &'static str,
) -> Result<(), LampidError> {
    check_text(street_field, &address.street)?;
    if !(1..=999).contains(&address.rt) || !(1..=999).contains(&address.rw) {
        return Err(LampidError::NeighbourhoodOutOfRange { field: prefix });
    }
    check_region(&address.kelurahan, facts, prefix)
}

fn check_region(
    code: &KodeWilayah,
    facts: &LampidFacts,
    field: &'static str,
) -> Result<(), LampidError> {
    if code.level() != RegionLevel::KelurahanDesa {
        return Err(LampidError::NotAVillage {
            field,
            found: code.level(),
        });
    }
    if !facts.known_regions.contains(code) {
        return Err(LampidError::UnknownRegion { field });
    }
    Ok(())
}

impl Kelahiran {
    fn validate(&self, facts: &LampidFacts, today: NaiveDate) -> Result<Assessment, LampidError> {
        check_text("nama_anak", &self.child_name)?;
        check_text("tempat_lahir", &self.birth_place)?;
        if self.birth_date > today {
            return Err(LampidError::DateInFuture {
                field: "tanggal_lahir",
            });
        }
        local_family(facts, &self.no_kk, "no_kk")?;
        // A mother the registry does not hold (from another city) is judged by what her NIK
        // encodes; whether she was alive is then for her own registry to say.
        let mother = facts.persons.get(&self.mother_nik);
        let (sex, born) = match mother {
            Some(p) => (p.sex, Some(p.birth_date)),
            None => (self.mother_nik.sex(), self.mother_nik.birth_date(today)),
        };
        if sex != Sex::Perempuan {
            return Err(LampidError::MotherNotFemale);
        }

        if let Some(mother) = mother {
            let alive = match mother.status {
                // Having moved away does not stop her being the mother.
                ResidentStatus::Hidup | ResidentStatus::Pindah => true,
                // A mother may die in childbirth: the death must not precede the birth.
                ResidentStatus::Meninggal => {
                    mother.died_on.is_some_and(|died| died >= self.birth_date)
                }
            };
            if !alive {
                return Err(LampidError::MotherNotAlive);
            }
        }
        let old_enough = born
            .and_then(|b| b.checked_add_months(Months::new(12 * MIN_MOTHER_AGE_YEARS)))
            .is_some_and(|ten| ten <= self.birth_date);
        if !old_enough {
            return Err(LampidError::MotherTooYoung);
        }
        // The child's record names its mother; one the registry lacks is named here.
        if mother.is_none() {
            check_text("nama_ibu", self.mother_name.as_deref().unwrap_or(""))?;
        }
        if self
            .father_name
            .as_ref()
            .is_some_and(|name| name.chars().count() > MAX_NAME_LEN)
        {
            return Err(LampidError::TooLong { field: "nama_ayah" });
        }
        if let Some(father) = &self.father_nik {
            let sex = facts
                .persons
                .get(father)
                .map_or_else(|| father.sex(), |p| p.sex);
            if sex != Sex::LakiLaki {
                return Err(LampidError::FatherNotMale);
            }
        }
        Ok(Assessment {
            late: is_late(self.birth_date, today, BIRTH_REPORT_DAYS),
        })
    }
}

impl Kematian {
    fn validate(&self, facts: &LampidFacts, today: NaiveDate) -> Result<Assessment, LampidError> {
        check_text("tempat_kematian", &self.place)?;
        let person = living_person(facts, &self.nik, "nik", None)?;
        if person.kelurahan != facts.submitting_kelurahan {
            return Err(LampidError::OutsideKelurahan {
                field: "nik",
                index: None,
            });
        }
        if self.date > today {
            return Err(LampidError::DateInFuture {
                field: "tanggal_kematian",
            });
        }
        if self.date < person.birth_date {
            return Err(LampidError::DeathBeforeBirth);
        }
        let family = facts.families.get(&person.no_kk);
        let stay: Vec<&Nik> = family
            .map(|f| f.members.iter().map(|(n, _)| n))
            .into_iter()
            .flatten()
            .filter(|n| **n != self.nik)
            .collect();
        let is_head = family.and_then(FamilyFacts::head) == Some(&self.nik);
        check_new_head(is_head && !stay.is_empty(), self.new_head.as_ref(), &stay)?;
        Ok(Assessment {
            late: is_late(self.date, today, DEATH_REPORT_DAYS),
        })
    }
}

/// The one-head rule for those who stay when someone leaves a family.
fn check_new_head(needed: bool, named: Option<&Nik>, stay: &[&Nik]) -> Result<(), LampidError> {
    const FIELD: &str = "nik_kepala_baru";
    match (needed, named) {
        (true, None) => Err(LampidError::NewHeadRequired { field: FIELD }),
        (true, Some(nik)) if !stay.contains(&nik) => {
            Err(LampidError::NewHeadNotInFamily { field: FIELD })
        }
        (false, Some(_)) => Err(LampidError::NewHeadNotNeeded { field: FIELD }),
        _ => Ok(()),
    }
}

impl Pindah {
    fn validate(&self, facts: &LampidFacts) -> Result<(), LampidError> {
        let family = local_family(facts, &self.no_kk, "no_kk")?;
        if let MoveScope::Sebagian { members, new_head } = &self.scope {
            const FIELD: &str = "yang_pindah.anggota";
            if members.is_empty() {
                return Err(LampidError::NoMembers { field: FIELD });
            }
            if let Some(index) = first_duplicate(members) {
                return Err(LampidError::DuplicateNik {
                    field: FIELD,
                    index,
                });
            }
            for (i, nik) in members.iter().enumerate() {
                let index = Some(i + 1);
                let person = living_person(facts, nik, FIELD, index)?;
                if person.kelurahan != facts.submitting_kelurahan {
                    return Err(LampidError::OutsideKelurahan {
                        field: FIELD,
                        index,
                    });
                }
                if !family.has_member(nik) {
                    return Err(LampidError::NotFamilyMember {
                        field: FIELD,
                        index,
                    });
                }
            }
            let stay: Vec<&Nik> = family
                .members
                .iter()
                .map(|(n, _)| n)
                .filter(|n| !members.contains(n))
                .collect();
            let head_leaves = family.head().is_some_and(|h| members.contains(h));
            check_new_head(head_leaves && !stay.is_empty(), new_head.as_ref(), &stay)?;
        }
        check_address(
            &self.destination,
            facts,
            "alamat_tujuan.kelurahan",
            "alamat_tujuan.alamat",
        )
    }
}

impl Datang {
    fn validate(&self, facts: &LampidFacts) -> Result<(), LampidError> {
        if let Origin::LuarKota {
            move_letter,
            kelurahan,
        } = &self.origin
        {
            check_text("asal.nomor_surat_pindah", move_letter)?;
            let well_formed = move_letter.chars().count() <= MAX_MOVE_LETTER_LEN
                && move_letter
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " ./-".contains(c));
            if !well_formed {
                return Err(LampidError::MalformedMoveLetter);
            }
            check_region(kelurahan, facts, "asal.kelurahan_asal")?;
            if facts.city().is_some_and(|city| kelurahan.is_within(&city)) {
                return Err(LampidError::OriginInCity);
            }
        }
        const FIELD: &str = "anggota";
        if self.arrivals.is_empty() {
            return Err(LampidError::NoMembers { field: FIELD });
        }
        if let Some(index) = first_duplicate(self.arrivals.iter().map(|a| &a.nik)) {
            return Err(LampidError::DuplicateNik {
                field: FIELD,
                index,
            });
        }
        let target = match &self.family {
            ArrivalFamily::GabungKk { no_kk } => Some(local_family(facts, no_kk, "tujuan.no_kk")?),
            ArrivalFamily::KkBaru { address } => {
                check_address(
                    address,
                    facts,
                    "tujuan.alamat.kelurahan",
                    "tujuan.alamat.alamat",
                )?;
                if address.kelurahan != facts.submitting_kelurahan {
                    return Err(LampidError::OutsideKelurahan {
                        field: "tujuan.alamat.kelurahan",
                        index: None,
                    });
                }
                None
            }
        };
        for (i, arrival) in self.arrivals.iter().enumerate() {
            let index = i + 1;
            let known = facts.persons.contains_key(&arrival.nik);
            let from_outside = matches!(self.origin, Origin::LuarKota { .. });
            match &arrival.biodata {
                None if !known && from_outside => {
                    return Err(LampidError::BiodataRequired { index });
                }
                Some(b) if !known => {
                    check_text("anggota.biodata.nama_lengkap", &b.full_name)?;
                    check_text("anggota.biodata.tempat_lahir", &b.birth_place)?;
                    check_text("anggota.biodata.nama_ibu", &b.mother_name)?;
                    if !arrival.nik.matches_birth_date(b.birth_date) {
                        return Err(LampidError::BiodataDisagrees { index });
                    }
                }
                _ => {}
            }
            match (&self.origin, facts.persons.get(&arrival.nik)) {
                // From outside: someone who left earlier may come back, but nobody who
                // still lives here or has died.
                (Origin::LuarKota { .. }, None) => {}
                (Origin::LuarKota { .. }, Some(p)) => match p.status {
                    ResidentStatus::Pindah => {}
                    ResidentStatus::Hidup => return Err(LampidError::AlreadyResident { index }),
                    ResidentStatus::Meninggal => {
                        return Err(LampidError::AlreadyDeceased {
                            field: FIELD,
                            index: Some(index),
                        });
                    }
                },
                (Origin::DalamKota, _) => {
                    let person = living_person(facts, &arrival.nik, FIELD, Some(index))?;
                    // A head who leaves members behind would leave their card headless; a
                    // move out with a new head comes first.
                    let left_behind = facts.families.get(&person.no_kk).is_some_and(|f| {
                        f.head() == Some(&arrival.nik)
                            && f.members
                                .iter()
                                .any(|(m, _)| !self.arrivals.iter().any(|a| &a.nik == m))
                    });
                    if left_behind {
                        return Err(LampidError::HeadLeavesMembers { index });
                    }
                }
            }
            if target.is_some_and(|f| f.has_member(&arrival.nik)) {
                return Err(LampidError::AlreadyInFamily { index });
            }
        }
        let heads = self
            .arrivals
            .iter()
            .filter(|a| a.relationship == FamilyRelationship::KepalaKeluarga)
            .count();
        // Joining a family keeps its head; a new card needs exactly one.
        let expected = usize::from(target.is_none());
        if heads != expected {
            return Err(LampidError::HeadCount {
                expected,
                found: heads,
            });
        }
        Ok(())
    }
}
