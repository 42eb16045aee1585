//! The demo's county, 青溪县: a county seat and eleven townships, sixty schools of every kind,
//! with central schools, schools in key poverty villages and realistic enrolments and teacher
//! counts. Each school also gets a hidden "how well it is run" and each township a "how well
//! off it is", from which the answers differ. Fixed by a seed, so every demo shows the same
//! county.

use rand::RngExt;

use crate::school_kind::SchoolKind;
use crate::schools::NewSchool;

/// The county seat first; the rest are rural townships.
const TOWNSHIPS: [&str; 12] = [
    "青溪镇",
    "石门镇",
    "龙潭镇",
    "白岩乡",
    "花桥镇",
    "桃源乡",
    "平寨镇",
    "新场乡",
    "红岩镇",
    "大河镇",
    "竹林乡",
    "坪上乡",
];

/// Village names for the village schools and teaching points.
const VILLAGES: [&str; 24] = [
    "大坪", "岩脚", "杨柳", "高峰", "石板", "水井", "茶园", "新寨", "凉水", "龙塘", "马鞍", "青杠",
    "松林", "坝子", "沙坡", "麻塘", "枫香", "干溪", "塘边", "上寨", "河口", "桥头", "金竹", "黄泥",
];

/// A school of the demo and what makes its answers differ.
#[derive(Clone, Debug)]
pub struct DemoSchool {
    pub school: NewSchool,
    /// How well the school is run, about −1 … +1: moves its answers up or down.
    pub quality: f64,
}

/// The county's schools, in the order of their codes.
pub fn schools(rng: &mut impl rand::Rng) -> Vec<DemoSchool> {
    let mut schools = Vec::new();
    let mut villages = VILLAGES.iter();
    let mut add = |rng: &mut dyn FnMut() -> f64,
                   name: String,
                   township: &str,
                   kind: SchoolKind,
                   central: bool,
                   key_village: bool,
                   enrolment: i32,
                   teachers: i32,
                   township_effect: f64| {
        let code = format!("45212300{:02}", schools.len() + 1);
        schools.push(DemoSchool {
            school: NewSchool {
                code,
                name,
                township: township.to_owned(),
                kind,
                is_central: central,
                is_key_village: key_village,
                enrolment,
                teachers,
            },
            quality: (township_effect + rng() * 0.45).clamp(-1.2, 1.2),
        });
    };
    let mut noise = || rng.random_range(-1.0..1.0);
    let around = |base: i32, spread: f64, noise: &mut dyn FnMut() -> f64| {
        ((base as f64) * (1.0 + spread * noise())).round().max(1.0) as i32
    };

    // The county seat: the senior high schools, the vocational centre and the town's schools.
    let seat = TOWNSHIPS[0];
    for (name, kind, central, enrolment, teachers) in [
        ("青溪县第一中学", SchoolKind::Senior, false, 2860, 196),
        ("青溪县第二中学", SchoolKind::Senior, false, 1940, 132),
        (
            "青溪县职业教育中心",
            SchoolKind::Vocational,
            false,
            1320,
            88,
        ),
        ("青溪县城关初级中学", SchoolKind::Junior, false, 1650, 118),
        ("青溪县第二初级中学", SchoolKind::Junior, false, 1210, 86),
        ("青溪镇中心小学", SchoolKind::Primary, true, 1980, 102),
        ("青溪镇东街小学", SchoolKind::Primary, false, 860, 45),
        ("青溪镇西街小学", SchoolKind::Primary, false, 720, 39),
        ("青溪县机关幼儿园", SchoolKind::Kindergarten, false, 420, 28),
        ("青溪县第二幼儿园", SchoolKind::Kindergarten, false, 310, 19),
    ] {
        let enrolment = around(enrolment, 0.05, &mut noise);
        add(
            &mut noise,
            name.to_owned(),
            seat,
            kind,
            central,
            false,
            enrolment,
            teachers,
            0.45,
        );
    }

    // Eleven townships, the further down the list the poorer and the smaller.
    for (index, township) in TOWNSHIPS.iter().enumerate().skip(1) {
        let short = township.trim_end_matches(['镇', '乡']);
        let remote = index as f64 / TOWNSHIPS.len() as f64;
        let effect = 0.25 - 0.8 * remote;
        let scale = 1.0 - 0.5 * remote;
        let primary = around((820.0 * scale) as i32, 0.2, &mut noise);
        add(
            &mut noise,
            format!("{township}中心小学"),
            township,
            SchoolKind::Primary,
            true,
            false,
            primary,
            primary / 18,
            effect,
        );
        // The smaller townships keep primary and junior grades in one nine-year school.
        if index % 4 == 3 {
            let pupils = around((900.0 * scale) as i32, 0.2, &mut noise);
            add(
                &mut noise,
                format!("{township}九年一贯制学校"),
                township,
                SchoolKind::NineYear,
                false,
                index % 2 == 1,
                pupils,
                pupils / 15,
                effect,
            );
        } else {
            let pupils = around((980.0 * scale) as i32, 0.2, &mut noise);
            add(
                &mut noise,
                format!("{short}镇初级中学").replace("镇镇", "镇"),
                township,
                SchoolKind::Junior,
                false,
                false,
                pupils,
                pupils / 13,
                effect,
            );
        }
        let children = around((260.0 * scale) as i32, 0.25, &mut noise);
        add(
            &mut noise,
            format!("{township}中心幼儿园"),
            township,
            SchoolKind::Kindergarten,
            false,
            false,
            children,
            (children / 16).max(3),
            effect,
        );
        // Village schools and teaching points, most of them in key poverty villages.
        let village_schools = 1 + usize::from(index % 3 == 0);
        for n in 0..village_schools {
            let village = villages.next().copied().unwrap_or("新村");
            let pupils = around(140, 0.4, &mut noise);
            add(
                &mut noise,
                format!("{township}{village}村小学"),
                township,
                SchoolKind::Primary,
                false,
                n == 0 || index % 3 == 0,
                pupils,
                (pupils / 14).max(6),
                effect - 0.2,
            );
        }
        if index % 2 == 0 {
            let village = villages.next().copied().unwrap_or("新村");
            let pupils = around(24, 0.4, &mut noise);
            add(
                &mut noise,
                format!("{township}{village}教学点"),
                township,
                SchoolKind::TeachingPoint,
                false,
                true,
                pupils,
                2 + (pupils % 3),
                effect - 0.3,
            );
        }
    }
    schools
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn the_county_has_about_sixty_schools_of_every_kind_over_a_dozen_townships() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        let schools = schools(&mut rng);
        assert!((55..=65).contains(&schools.len()), "{}", schools.len());
        for kind in SchoolKind::ALL {
            assert!(schools.iter().any(|s| s.school.kind == kind), "no {kind:?}");
        }
        let townships: std::collections::BTreeSet<_> =
            schools.iter().map(|s| &s.school.township).collect();
        assert_eq!(townships.len(), 12);
        assert!(schools.iter().filter(|s| s.school.is_key_village).count() >= 10);
        assert!(schools.iter().filter(|s| s.school.is_central).count() >= 10);
        let codes: std::collections::BTreeSet<_> = schools.iter().map(|s| &s.school.code).collect();
        assert_eq!(codes.len(), schools.len(), "codes are unique");
        for school in &schools {
            assert_eq!(school.school.code.len(), 10, "{}", school.school.code);
            assert!(school.school.teachers >= 2 && school.school.enrolment >= 1);
        }
    }
}
