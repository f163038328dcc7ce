//! Families (keluarga): one KK number, one address, members, and exactly one head.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::FamilyRelationship;
use crate::nik::{Nik, NoKk};
use crate::resident::{Address, BiodataError, Resident, ResidentStatus};

/// A family card with its living members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Family {
    pub no_kk: NoKk,
    #[serde(rename = "alamat")]
    pub address: Address,
    #[serde(rename = "anggota")]
    pub members: Vec<Resident>,
}

/// Why a family is not a valid family card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FamilyError {
    #[error("keluarga tanpa anggota")]
    NoMembers,
    #[error("keluarga harus punya tepat satu kepala keluarga, ditemukan {found}")]
    HeadCount { found: usize },
    #[error("anggota ke-{index} tercatat pada KK lain")]
    MemberOfOtherKk { index: usize },
    #[error("anggota ke-{index} tidak berstatus hidup")]
    MemberNotLiving { index: usize },
    #[error("NIK anggota ke-{index} muncul dua kali")]
    DuplicateNik { index: usize },
    #[error("anggota ke-{index}: {source}")]
    Biodata { index: usize, source: BiodataError },
    #[error("alamat: {0}")]
    Address(BiodataError),
}

impl Family {
    /// Builds a family, enforcing the family-card rules on the whole group.
    pub fn new(
        no_kk: NoKk,
        address: Address,
        members: Vec<Resident>,
        today: NaiveDate,
    ) -> Result<Self, FamilyError> {
        let family = Self {
            no_kk,
            address,
            members,
        };
        family.check(today)?;
        Ok(family)
    }

    /// The rules every stored family satisfies: living members on this KK, unique NIKs,
    /// consistent biodata, a valid address, and exactly one head.
    pub fn check(&self, today: NaiveDate) -> Result<(), FamilyError> {
        if self.members.is_empty() {
            return Err(FamilyError::NoMembers);
        }
        self.address.check().map_err(FamilyError::Address)?;
        let mut seen = HashSet::new();
        for (index, member) in self.members.iter().enumerate() {
            let index = index + 1;
            if member.no_kk != self.no_kk {
                return Err(FamilyError::MemberOfOtherKk { index });
            }
            if member.status != ResidentStatus::Hidup {
                return Err(FamilyError::MemberNotLiving { index });
            }
            if !seen.insert(&member.nik) {
                return Err(FamilyError::DuplicateNik { index });
            }
            member
                .check(today)
                .map_err(|source| FamilyError::Biodata { index, source })?;
        }
        let heads = self
            .members
            .iter()
            .filter(|m| m.relationship == FamilyRelationship::KepalaKeluarga)
            .count();
        if heads != 1 {
            return Err(FamilyError::HeadCount { found: heads });
        }
        Ok(())
    }

    /// The head of the family; `check` guarantees there is one.
    pub fn head(&self) -> Option<&Resident> {
        self.members
            .iter()
            .find(|m| m.relationship == FamilyRelationship::KepalaKeluarga)
    }

    pub fn member_niks(&self) -> impl Iterator<Item = &Nik> {
        self.members.iter().map(|m| &m.nik)
    }
}
