//! The family stream: walks the plan's villages in code order and fills each with
//! households until the running total reaches the village's cumulative target.
//!
//! Only one kecamatan's state is alive at a time: its random stream, its number
//! allocator (serial counters) and the street plan of the village being filled. The random
//! stream is ChaCha8 keyed by the seed, with the kecamatan's code as the stream number, so
//! each kecamatan draws from an independent sequence that does not depend on the others.
//!
//! Targets are cumulative, so the few residents by which a village overshoots (a household
//! is never cut) come off the next village's share, and the run ends exactly at the
//! requested count or above it by less than the last household.

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use simpul_domain::{Family, KodeWilayah};

use crate::address::VillageStreets;
use crate::card::Issuer;
use crate::household;
use crate::numbers::NumberAllocator;
use crate::region::{Plan, code_number};

/// The iterator [`crate::families`] returns.
pub(crate) struct Families {
    plan: Plan,
    seed: u64,
    today: NaiveDate,
    /// Index of the village being filled.
    next: usize,
    /// Residents generated so far.
    produced: u64,
    current: Option<Kecamatan>,
}

/// The state of the kecamatan being generated.
struct Kecamatan {
    code: KodeWilayah,
    rng: ChaCha8Rng,
    numbers: NumberAllocator,
    /// The village whose street plan `streets` is.
    village: usize,
    streets: VillageStreets,
}

impl Families {
    pub(crate) fn new(plan: Plan, seed: u64, today: NaiveDate) -> Self {
        Self {
            plan,
            seed,
            today,
            next: 0,
            produced: 0,
            current: None,
        }
    }
}

impl Kecamatan {
    /// Enters the kecamatan of village `index`, starting its random stream.
    fn new(plan: &Plan, seed: u64, index: usize) -> Self {
        let village = &plan.villages[index];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(code_number(&village.kecamatan));
        let city = &plan.cities[village.city];
        let numbers = NumberAllocator::new(village.kecamatan.clone(), city.kecamatan.clone());
        let streets =
            VillageStreets::new(&mut rng, village.region.code.clone(), &village.region.name);
        Self {
            code: village.kecamatan.clone(),
            rng,
            numbers,
            village: index,
            streets,
        }
    }

    /// The state for village `index`, entering its kecamatan and village as needed.
    fn enter<'a>(
        current: &'a mut Option<Self>,
        plan: &Plan,
        seed: u64,
        index: usize,
    ) -> &'a mut Self {
        let village = &plan.villages[index];
        if current
            .as_ref()
            .is_some_and(|k| k.code != village.kecamatan)
        {
            *current = None;
        }
        let state = current.get_or_insert_with(|| Self::new(plan, seed, index));
        if state.village != index {
            state.streets = VillageStreets::new(
                &mut state.rng,
                village.region.code.clone(),
                &village.region.name,
            );
            state.village = index;
        }
        state
    }
}

impl Iterator for Families {
    type Item = Family;

    fn next(&mut self) -> Option<Family> {
        loop {
            let village = self.plan.villages.get(self.next)?;
            if self.produced >= village.until {
                self.next += 1;
                continue;
            }
            let today = self.today;
            let birth_place = &self.plan.cities[village.city].birth_place;
            let Kecamatan {
                rng,
                numbers,
                streets,
                ..
            } = Kecamatan::enter(&mut self.current, &self.plan, self.seed, self.next);
            let members = household::household(rng, today);
            let address = streets.address(rng);
            let mut issuer = Issuer {
                numbers,
                birth_place,
                today,
            };
            let family = issuer.issue(rng, members, address);
            self.produced += family.members.len() as u64;
            return Some(family);
        }
    }
}
