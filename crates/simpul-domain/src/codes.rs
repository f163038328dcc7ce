//! The code lists a family card uses (Permendagri 118/2017), as closed enums.
//!
//! Each enum serialises in the API and the journal as a stable snake_case Indonesian code
//! (`laki_laki`, `kawin_tercatat`) and shows its official label with [`Label::label`].

use serde::{Deserialize, Serialize};

/// The human label of a code, as printed on a family card.
pub trait Label {
    fn label(&self) -> &'static str;
}

macro_rules! code_list {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in card order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code used in storage, the API and the journal.
            pub fn as_code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Parses a stable code; `None` for anything else.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl Label for $name {
            fn label(&self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }
    };
}

code_list! {
    /// Jenis kelamin.
    Sex {
        LakiLaki => "laki_laki", "Laki-laki";
        Perempuan => "perempuan", "Perempuan";
    }
}

code_list! {
    /// Agama, including adherents of indigenous beliefs.
    Religion {
        Islam => "islam", "Islam";
        Kristen => "kristen", "Kristen";
        Katolik => "katolik", "Katolik";
        Hindu => "hindu", "Hindu";
        Buddha => "buddha", "Buddha";
        Khonghucu => "khonghucu", "Khonghucu";
        Kepercayaan => "kepercayaan", "Kepercayaan terhadap Tuhan Yang Maha Esa";
    }
}

code_list! {
    /// Status perkawinan per Permendagri 118/2017.
    MaritalStatus {
        BelumKawin => "belum_kawin", "Belum Kawin";
        KawinTercatat => "kawin_tercatat", "Kawin Tercatat";
        KawinBelumTercatat => "kawin_belum_tercatat", "Kawin Belum Tercatat";
        CeraiHidupTercatat => "cerai_hidup_tercatat", "Cerai Hidup Tercatat";
        CeraiHidupBelumTercatat => "cerai_hidup_belum_tercatat", "Cerai Hidup Belum Tercatat";
        CeraiMati => "cerai_mati", "Cerai Mati";
    }
}

code_list! {
    /// Status hubungan dalam keluarga (SHDK).
    FamilyRelationship {
        KepalaKeluarga => "kepala_keluarga", "Kepala Keluarga";
        Suami => "suami", "Suami";
        Istri => "istri", "Istri";
        Anak => "anak", "Anak";
        Menantu => "menantu", "Menantu";
        Cucu => "cucu", "Cucu";
        OrangTua => "orang_tua", "Orang Tua";
        Mertua => "mertua", "Mertua";
        FamiliLain => "famili_lain", "Famili Lain";
        Pembantu => "pembantu", "Pembantu";
        Lainnya => "lainnya", "Lainnya";
    }
}

code_list! {
    /// Pendidikan terakhir.
    Education {
        TidakBelumSekolah => "tidak_belum_sekolah", "Tidak/Belum Sekolah";
        BelumTamatSd => "belum_tamat_sd", "Belum Tamat SD/Sederajat";
        TamatSd => "tamat_sd", "Tamat SD/Sederajat";
        Sltp => "sltp", "SLTP/Sederajat";
        Slta => "slta", "SLTA/Sederajat";
        Diploma12 => "diploma_1_2", "Diploma I/II";
        Diploma3 => "diploma_3", "Akademi/Diploma III/Sarjana Muda";
        Strata1 => "strata_1", "Diploma IV/Strata I";
        Strata2 => "strata_2", "Strata II";
        Strata3 => "strata_3", "Strata III";
    }
}

code_list! {
    /// Kewarganegaraan.
    Citizenship {
        Wni => "wni", "WNI";
        Wna => "wna", "WNA";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde_and_storage() {
        for value in Religion::ALL {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_code()));
            assert_eq!(Religion::from_code(value.as_code()), Some(*value));
        }
        assert_eq!(MaritalStatus::ALL.len(), 6);
        assert_eq!(FamilyRelationship::ALL.len(), 11);
        assert_eq!(Education::ALL.len(), 10);
        assert_eq!(Sex::from_code("L"), None);
    }
}
