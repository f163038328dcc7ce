//! Addresses inside one kelurahan/desa: its streets (or hamlets, for a desa), its RW and RT
//! numbers, and house numbers. Every member of a family shares the family's address.
//!
//! Street names are real Madiun street names and the common Javanese town patterns (heroes,
//! rivers, islands, mountains, fruit, flowers, birds); a kelurahan gets a handful of them,
//! so neighbours share streets as they do in a real card file.

use rand::Rng;
use simpul_domain::{Address, KodeWilayah};

use crate::pick;

const STREETS: &[&str] = &[
    "Pahlawan",
    "Diponegoro",
    "Soekarno-Hatta",
    "Panglima Sudirman",
    "Mayjen Panjaitan",
    "Serayu",
    "H.O.S. Cokroaminoto",
    "Agus Salim",
    "Kolonel Marhadi",
    "Salak",
    "M.H. Thamrin",
    "Urip Sumoharjo",
    "Tanjung Raya",
    "Cendrawasih",
    "Mastrip",
    "Setia Budi",
    "Basuki Rahmat",
    "Kalimantan",
    "Sumatra",
    "Bali",
    "Barito",
    "Bengawan Solo",
    "Citandui",
    "Halmahera",
    "Rimba Mulya",
    "Tirta Raya",
    "Ahmad Yani",
    "Yos Sudarso",
    "Kapten Tendean",
    "Mangga",
    "Nanas",
    "Jeruk",
    "Apel",
    "Manggis",
    "Rambutan",
    "Sulawesi",
    "Jawa",
    "Madura",
    "Biliton",
    "Lawu",
    "Wilis",
    "Kelud",
    "Semeru",
    "Bromo",
    "Anggrek",
    "Melati",
    "Mawar",
    "Dahlia",
    "Cempaka",
    "Kenanga",
    "Flamboyan",
    "Hayam Wuruk",
    "Gajah Mada",
    "Trunojoyo",
    "Kutilang",
    "Merak",
    "Nuri",
    "Parkit",
    "Srindit",
    "Sikatan",
    "Ring Road Barat",
    "Kompol Sunaryo",
];
/// Hamlet (dusun) names common across Javanese villages.
const DUSUN: &[&str] = &[
    "Krajan",
    "Ngrowo",
    "Kedungrejo",
    "Sidomulyo",
    "Karanganyar",
    "Kauman",
    "Ngampel",
    "Bendo",
    "Tegalrejo",
    "Sumberejo",
    "Wonorejo",
    "Jetis",
    "Ngrandu",
    "Sambirejo",
    "Banaran",
    "Kepuh",
];
const GANG: &[&str] = &["I", "II", "III", "IV", "V", "VI"];

/// The street plan of one kelurahan/desa, drawn once when the stream enters it.
pub(crate) struct VillageStreets {
    kelurahan: KodeWilayah,
    /// A desa (rural; code part four starts with 2) is addressed by hamlet.
    rural: bool,
    name: String,
    streets: Vec<&'static str>,
    /// RT count of each RW (RW numbers are 1..=len).
    rts_per_rw: Vec<u16>,
}

impl VillageStreets {
    pub(crate) fn new(rng: &mut impl Rng, kelurahan: KodeWilayah, name: &str) -> Self {
        let rural = kelurahan
            .as_str()
            .rsplit('.')
            .next()
            .is_some_and(|p| p.starts_with('2'));
        let street_count = rng.random_range(4..=10);
        let pool = if rural { DUSUN } else { STREETS };
        let mut streets: Vec<&'static str> = (0..street_count).map(|_| pick(rng, pool)).collect();
        streets.sort_unstable();
        streets.dedup();
        let rw_count = rng.random_range(3..=8);
        let rts_per_rw = (0..rw_count).map(|_| rng.random_range(3..=15)).collect();
        Self {
            kelurahan,
            rural,
            name: name.to_owned(),
            streets,
            rts_per_rw,
        }
    }

    /// A household's address in this kelurahan.
    pub(crate) fn address(&self, rng: &mut impl Rng) -> Address {
        let rw = rng.random_range(0..self.rts_per_rw.len());
        let rt = rng.random_range(1..=self.rts_per_rw[rw]);
        let house = rng.random_range(1..=160);
        // Streets follow the RW, so an RW's households cluster on a few streets.
        let street = self.streets[(rw + rng.random_range(0..2)) % self.streets.len()];
        let street = if self.rural {
            if rng.random_bool(0.7) {
                format!("Dsn. {street}")
            } else {
                format!("Jl. Raya {} No. {house}", self.name)
            }
        } else if rng.random_bool(0.2) {
            format!("Jl. {street} Gg. {} No. {house}", pick(rng, GANG))
        } else if rng.random_bool(0.05) {
            format!("Jl. {} No. {house}", self.name)
        } else {
            format!("Jl. {street} No. {house}")
        };
        Address {
            street,
            rt,
            rw: rw as u16 + 1,
            kelurahan: self.kelurahan.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn addresses_stay_inside_the_kelurahan_and_its_neighbourhoods() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let code = KodeWilayah::parse("35.77.02.1002").unwrap();
        let streets = VillageStreets::new(&mut rng, code.clone(), "Sogaten");
        for _ in 0..500 {
            let address = streets.address(&mut rng);
            assert!(address.check().is_ok());
            assert!((1..=15).contains(&address.rt) && (1..=8).contains(&address.rw));
            assert_eq!(address.kelurahan, code);
            assert!(address.street.starts_with("Jl. "), "{}", address.street);
        }
    }
}
