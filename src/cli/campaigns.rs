//! `dupin campaign create`, `dupin campaign links ID` and `dupin campaign list`.

use std::process::ExitCode;

use super::{CampaignCommand, Common, print_lines};
use crate::campaigns::actions::create_campaign;
use crate::campaigns::{self, NewCampaign, SchoolSelection};
use crate::change::Actor;
use crate::{links, survey};

pub(super) async fn run(common: &Common, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    match command {
        CampaignCommand::Create {
            survey: survey_id,
            name,
            opens,
            closes,
            schools,
        } => {
            let catalog = match survey::load_dir(&common.surveys) {
                Ok(catalog) => catalog,
                Err(errors) => {
                    eprintln!("{errors}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let Some(entry) = catalog.get(&survey_id) else {
                eprintln!(
                    "error: no survey \"{survey_id}\" in {} (known: {})",
                    common.surveys.display(),
                    catalog.ids().join(", ")
                );
                return Ok(ExitCode::FAILURE);
            };
            let parse = |flag: &str, text: Option<String>| -> Result<_, String> {
                text.map(|text| {
                    campaigns::parse_time(&text).ok_or_else(|| {
                        format!("{flag} \"{text}\" is not a time: write 2026-12-01 or \"2026-12-01 08:00\"")
                    })
                })
                .transpose()
            };
            let (opens_at, closes_at) = match (parse("--opens", opens), parse("--closes", closes)) {
                (Ok(opens), Ok(closes)) => (opens, closes),
                (Err(message), _) | (_, Err(message)) => {
                    eprintln!("error: {message}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let context = common.context().await?;
            let new = NewCampaign {
                name,
                survey: entry,
                opens_at,
                closes_at,
                schools: SchoolSelection::parse(&schools),
                status: campaigns::CampaignStatus::Open,
                expected_override: None,
            };
            match create_campaign(&context, Actor::CommandLine, new).await {
                Ok((campaign, links)) => {
                    println!(
                        "Campaign {} created: \"{}\", survey {} ({}), {} school links.",
                        campaign.id, campaign.name, entry.survey.id, entry.survey.title, links
                    );
                    println!("Print the links: dupin campaign links {}", campaign.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        CampaignCommand::Links { id } => {
            let db = crate::db::connect(&common.database_url).await?;
            // The same default as the server's: the bind address, when no public one is set.
            let base_url = common.base_url();
            match campaigns::links(&db, id).await {
                Ok(rows) => {
                    print_lines(rows.into_iter().map(|row| {
                        format!(
                            "{}\t{}\t{}",
                            row.code,
                            row.name,
                            links::link_url(&base_url, &row.token)
                        )
                    }));
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        CampaignCommand::List => {
            let db = crate::db::connect(&common.database_url).await?;
            for campaign in campaigns::list(&db).await? {
                let now = chrono::Utc::now();
                let state = match campaigns::availability(&campaign, now) {
                    campaigns::Availability::Open => "open",
                    campaigns::Availability::Draft => "draft",
                    campaigns::Availability::NotYetOpen(_) => "not yet open",
                    campaigns::Availability::Closed => "closed",
                };
                println!("{}\t{}\t{}", campaign.id, campaign.name, state);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
