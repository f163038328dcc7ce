//! The four report payloads and their tagged union, as the API and the journal carry them.

use super::*;

/// A birth report (*kelahiran*). `Debug` hides the child's name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kelahiran {
    #[serde(rename = "nama_anak")]
    pub child_name: String,
    #[serde(rename = "jenis_kelamin")]
    pub sex: Sex,
    #[serde(rename = "tanggal_lahir")]
    pub birth_date: NaiveDate,
    #[serde(rename = "jam_lahir")]
    pub birth_time: NaiveTime,
    #[serde(rename = "tempat_lahir")]
    pub birth_place: String,
    #[serde(rename = "nik_ibu")]
    pub mother_nik: Nik,
    /// Absent when the father is unknown or not recorded (a child of the mother only).
    #[serde(rename = "nik_ayah", default, skip_serializing_if = "Option::is_none")]
    pub father_nik: Option<Nik>,
    /// The mother's name, required only when the registry does not hold her record.
    #[serde(rename = "nama_ibu", default, skip_serializing_if = "Option::is_none")]
    pub mother_name: Option<String>,
    /// The father's name, used only when the registry does not hold his record.
    #[serde(rename = "nama_ayah", default, skip_serializing_if = "Option::is_none")]
    pub father_name: Option<String>,
    /// The family card the child joins.
    pub no_kk: NoKk,
    #[serde(rename = "nik_pelapor")]
    pub reporter: Nik,
}

/// Cause-of-death categories as the death report form (SIAK F-2.01) groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CauseOfDeath {
    SakitBiasaTua,
    WabahPenyakit,
    Kecelakaan,
    Kriminalitas,
    BunuhDiri,
    Lainnya,
}

/// A death report (*kematian*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kematian {
    pub nik: Nik,
    #[serde(rename = "tanggal_kematian")]
    pub date: NaiveDate,
    #[serde(rename = "tempat_kematian")]
    pub place: String,
    #[serde(rename = "sebab_kematian")]
    pub cause: CauseOfDeath,
    /// Required when the deceased heads a family that others remain in: a family card
    /// always has exactly one head.
    #[serde(
        rename = "nik_kepala_baru",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub new_head: Option<Nik>,
    #[serde(rename = "nik_pelapor")]
    pub reporter: Nik,
}

/// Reasons for moving, as the move form (SIAK F-1.03) lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MoveReason {
    Pekerjaan,
    Pendidikan,
    Keamanan,
    Kesehatan,
    Perumahan,
    Keluarga,
    Lainnya,
}

/// Who moves: the whole family, or some members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "cakupan", rename_all = "snake_case")]
pub enum MoveScope {
    /// Every living member; the family card moves with them.
    SeluruhKeluarga,
    /// Only the named members.
    Sebagian {
        #[serde(rename = "anggota")]
        members: Vec<Nik>,
        /// The new head of those who stay, required when the head is among the movers.
        #[serde(
            rename = "nik_kepala_baru",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        new_head: Option<Nik>,
    },
}

/// A move out (*pindah*) of one family's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pindah {
    pub no_kk: NoKk,
    #[serde(rename = "yang_pindah")]
    pub scope: MoveScope,
    /// Where they go; its kelurahan must be a kelurahan/desa of the master data.
    #[serde(rename = "alamat_tujuan")]
    pub destination: Address,
    #[serde(rename = "alasan")]
    pub reason: MoveReason,
    #[serde(rename = "nik_pelapor")]
    pub reporter: Nik,
}

/// Where arrivals come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "jenis", rename_all = "snake_case")]
pub enum Origin {
    /// From another kabupaten/kota, with the move letter (SKPWNI) the origin issued.
    LuarKota {
        #[serde(rename = "nomor_surat_pindah")]
        move_letter: String,
        #[serde(rename = "kelurahan_asal")]
        kelurahan: KodeWilayah,
    },
    /// From elsewhere in this city: the arrivals are residents of this registry.
    DalamKota,
}

/// Which family arrivals join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "jenis", rename_all = "snake_case")]
pub enum ArrivalFamily {
    /// An existing family card in the submitting kelurahan.
    GabungKk { no_kk: NoKk },
    /// A new family card at this address; exactly one arrival is its head.
    KkBaru {
        #[serde(rename = "alamat")]
        address: Address,
    },
}

/// One arriving person and their place in the family they join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Arrival {
    pub nik: Nik,
    #[serde(rename = "hubungan_keluarga")]
    pub relationship: FamilyRelationship,
    /// The person's biodata as the origin's move letter gives it: required for someone the
    /// registry has never held (from another city), ignored otherwise (the registry's own
    /// record is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biodata: Option<ArrivalBiodata>,
}

/// Biodata of a person arriving from another city. `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArrivalBiodata {
    #[serde(rename = "nama_lengkap")]
    pub full_name: String,
    #[serde(rename = "tempat_lahir")]
    pub birth_place: String,
    #[serde(rename = "tanggal_lahir")]
    pub birth_date: NaiveDate,
    #[serde(rename = "agama")]
    pub religion: Religion,
    #[serde(rename = "status_perkawinan")]
    pub marital_status: MaritalStatus,
    #[serde(rename = "pendidikan")]
    pub education: Education,
    #[serde(rename = "pekerjaan")]
    pub occupation: String,
    #[serde(rename = "nama_ayah", default)]
    pub father_name: String,
    #[serde(rename = "nama_ibu")]
    pub mother_name: String,
    #[serde(rename = "kewarganegaraan")]
    pub citizenship: Citizenship,
}

impl fmt::Debug for ArrivalBiodata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrivalBiodata").finish_non_exhaustive()
    }
}

/// A move in (*datang*).
///
/// For arrivals from another city the biodata travels with the move letter (from the
/// national registry), not in this payload; registration reads it from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Datang {
    #[serde(rename = "asal")]
    pub origin: Origin,
    #[serde(rename = "anggota")]
    pub arrivals: Vec<Arrival>,
    #[serde(rename = "tujuan")]
    pub family: ArrivalFamily,
    #[serde(rename = "nik_pelapor")]
    pub reporter: Nik,
}

/// One e-LAMPID report, tagged as the journal and the API carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "jenis", content = "data", rename_all = "snake_case")]
pub enum LampidPayload {
    Kelahiran(Kelahiran),
    Kematian(Kematian),
    Pindah(Pindah),
    Datang(Datang),
}

impl LampidPayload {
    /// Stable snake_case name of the report type.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Kelahiran(_) => "kelahiran",
            Self::Kematian(_) => "kematian",
            Self::Pindah(_) => "pindah",
            Self::Datang(_) => "datang",
        }
    }

    /// NIKs whose records [`LampidFacts::persons`] must hold (those the registry has).
    pub fn referenced_niks(&self) -> Vec<&Nik> {
        match self {
            Self::Kelahiran(k) => std::iter::once(&k.mother_nik)
                .chain(k.father_nik.as_ref())
                .collect(),
            Self::Kematian(k) => std::iter::once(&k.nik).chain(k.new_head.as_ref()).collect(),
            Self::Pindah(p) => match &p.scope {
                MoveScope::SeluruhKeluarga => Vec::new(),
                MoveScope::Sebagian { members, new_head } => {
                    members.iter().chain(new_head.as_ref()).collect()
                }
            },
            Self::Datang(d) => d.arrivals.iter().map(|a| &a.nik).collect(),
        }
    }

    /// KK numbers the payload names directly. [`LampidFacts::families`] must also hold the
    /// family of every person found through [`Self::referenced_niks`].
    pub fn referenced_families(&self) -> Vec<&NoKk> {
        match self {
            Self::Kelahiran(k) => vec![&k.no_kk],
            Self::Kematian(_) => Vec::new(),
            Self::Pindah(p) => vec![&p.no_kk],
            Self::Datang(d) => match &d.family {
                ArrivalFamily::GabungKk { no_kk } => vec![no_kk],
                ArrivalFamily::KkBaru { .. } => Vec::new(),
            },
        }
    }

    /// Region codes whose presence in the master data [`LampidFacts::known_regions`] must
    /// record.
    pub fn referenced_regions(&self) -> Vec<&KodeWilayah> {
        match self {
            Self::Kelahiran(_) | Self::Kematian(_) => Vec::new(),
            Self::Pindah(p) => vec![&p.destination.kelurahan],
            Self::Datang(d) => {
                let origin = match &d.origin {
                    Origin::LuarKota { kelurahan, .. } => Some(kelurahan),
                    Origin::DalamKota => None,
                };
                let address = match &d.family {
                    ArrivalFamily::KkBaru { address } => Some(&address.kelurahan),
                    ArrivalFamily::GabungKk { .. } => None,
                };
                origin.into_iter().chain(address).collect()
            }
        }
    }
}

impl fmt::Debug for Kelahiran {
    /// The NIKs redact themselves; the child's name is left out, so a stray `{:?}` in a
    /// log never carries it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kelahiran")
            .field("birth_date", &self.birth_date)
            .field("mother_nik", &self.mother_nik)
            .field("no_kk", &self.no_kk)
            .finish_non_exhaustive()
    }
}
