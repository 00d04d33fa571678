//! `telephony campaign run`: the contacts file read, the campaign built from the flags, and the dialer followed to its end.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use telephony::{MachineDetection, StreamSpec};
use telephony_campaign::{
    Campaign, CampaignState, Dialer, DialerError, DialerEvent, OnMachine, Polling, RetryPolicy,
    RunningCampaign, csv,
};

use crate::calls::{out, parse_number};
use crate::provider::{self};
use crate::{Failure, parse_url};

use super::view::View;
use super::{
    DEFAULT_STORE, PROGRESS_EVERY, RATE_WINDOW, REDRAW_EVERY, RunArgs, one_line, open,
    outcome_counts, shown, store_failed, store_url, write_results_file,
};

/// The contacts file's rows, each left-out row reported on stderr.
fn read_contacts(path: &Path) -> Result<Vec<telephony_campaign::Contact>, Failure> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| Failure::Usage(format!("{name}: {e}")))?;
    let read = csv::read_contacts(std::io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{name}: {e}")))?;
    for row in &read.errors {
        eprintln!("{name} line {}: {}", row.line, one_line(&row.reason));
    }
    if read.contacts.is_empty() {
        return Err(Failure::Usage(format!(
            "{name}: no contact to call ({} row(s) left out)",
            read.errors.len()
        )));
    }
    Ok(read.contacts)
}

/// The campaign the flags describe, with its contacts.
fn campaign(args: &RunArgs, id: String) -> Result<Campaign, Failure> {
    let c = match (&args.stream_url, &args.answer_url) {
        (Some(s), _) => Campaign::new(id, StreamSpec::new(parse_url("--stream-url", s)?)),
        (None, Some(u)) => Campaign::answer_url(id, parse_url("--answer-url", u)?),
        (None, None) => {
            return Err(Failure::Usage(
                "no instructions for the answered calls: give --stream-url WSS_URL or \
                 --answer-url URL"
                    .into(),
            ));
        }
    };
    let contacts = read_contacts(&args.contacts)?;
    let mut policy = RetryPolicy::default();
    for (outcome, retry) in &args.retry {
        policy = policy.on(*outcome, *retry);
    }
    let concurrency = usize::try_from(args.concurrency).unwrap_or(usize::MAX);
    let mut c = c.contacts(contacts).concurrency(concurrency).retry(policy);
    for from in &args.from {
        c = c.from(parse_number("--from", from)?);
    }
    if let Some(cps) = args.cps {
        c = c.calls_per_second(cps);
    }
    if let Some(window) = &args.window {
        c = c.window(window.clone());
    }
    if let Some(zone) = &args.zone {
        c = c
            .default_zone(zone)
            .map_err(|e| Failure::Usage(format!("--zone: {e}")))?;
    }
    if args.machine_detection {
        c = c.machine_detection(MachineDetection::Detect, OnMachine::HangUp);
    }
    if let Some(secs) = args.ring_timeout {
        c = c.ring_timeout(Duration::from_secs(secs));
    }
    if let Some(url) = &args.status_callback {
        c = c.status_callback(parse_url("--status-callback", url)?);
    }
    if args.poll_first.is_some() || args.poll_max.is_some() {
        let d = Polling::default();
        let first = args.poll_first.unwrap_or(d.first);
        let max = args.poll_max.unwrap_or(d.max);
        c = c.polling(Polling::new(first, max));
    }
    if let Some(lease) = args.lease {
        c = c.lease(lease);
    }
    Ok(c)
}

/// The campaign's id: `--campaign`, or the contacts file's stem.
fn campaign_id(args: &RunArgs) -> Result<String, Failure> {
    if let Some(id) = &args.campaign {
        return Ok(id.clone());
    }
    args.contacts
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{}: no file name to name the campaign after; give --campaign ID",
                args.contacts.display()
            ))
        })
}

/// The flags that name the campaign and its store, for the commands a message suggests.
fn naming(id: &str, store: &str) -> String {
    if store == DEFAULT_STORE {
        format!("--campaign {id}")
    } else {
        format!("--campaign {id} --store {}", shown(store))
    }
}

pub(super) async fn dial(args: RunArgs) -> Result<(), Failure> {
    let id = campaign_id(&args)?;
    let url = store_url(&args.store)?;
    let campaign = campaign(&args, id.clone())?;
    let provider = provider::from_env(args.provider, args.base_url.as_deref())?;
    // Say which flag the carrier takes, before any contact is claimed.
    let can = provider.capabilities();
    let name = provider.kind().name();
    if args.stream_url.is_some() && !can.inline_stream_on_create {
        return Err(Failure::Usage(format!(
            "--stream-url: {name} cannot connect a call straight to a stream when placing it; \
             give --answer-url URL, whose answer connects the stream"
        )));
    }
    if args.answer_url.is_some() && !can.answer_url {
        return Err(Failure::Usage(format!(
            "--answer-url: {name} fetches no answer URL when a call is answered; give \
             --stream-url WSS_URL, the stream the answered call connects to"
        )));
    }
    let store = open(&url).await?;
    let names = naming(&id, &args.store);
    if store.state(&id).await.map_err(store_failed)? == Some(CampaignState::Cancelled) {
        eprintln!(
            "campaign {id} was cancelled: nothing is dialled until `telephony campaign resume {names}`"
        );
    }
    let mut running = Dialer::new(provider, store)
        .start(campaign)
        .await
        .map_err(|e| match e {
            DialerError::Store(e) => store_failed(e),
            other => Failure::Usage(other.to_string()),
        })?;
    let mut view = View::new(args.quiet, &id, &names);
    if follow(&mut running, &mut view).await == Stop::Interrupted {
        // Dropping the running campaign stops it: nothing new is dialled. Calls under way go
        // on at the carrier; the next run settles them from their ids once this run's lease on
        // them has run out.
        drop(running);
        view.clear();
        let lease = args.lease.unwrap_or(Duration::from_secs(30));
        return Err(Failure::Interrupted(format!(
            "interrupted: nothing more is dialled. The store keeps the campaign: run the same \
             command again to resume it (calls under way are settled then, once this run's {} \
             lease on them has run out)",
            human(lease)
        )));
    }
    let finished = running.finished().await;
    view.clear();
    let progress = match finished {
        Ok(p) => p,
        Err(e) => {
            if let Some(path) = &args.results
                && let Ok(rows) = running.results().await
            {
                let _ = write_results_file(path, &rows);
            }
            return Err(Failure::No(format!(
                "the dialer failed: {}",
                one_line(&e.to_string())
            )));
        }
    };
    if let Some(path) = &args.results {
        let rows = running.results().await.map_err(store_failed)?;
        write_results_file(path, &rows)?;
    }
    let cancelled = progress.state == Some(CampaignState::Cancelled);
    let mut summary = format!(
        "campaign {id} {}: done {}/{}, {} attempt(s)",
        if cancelled { "cancelled" } else { "finished" },
        progress.done,
        progress.total,
        progress.dialled
    );
    if !progress.outcomes.is_empty() {
        let _ = write!(summary, "; {}", outcome_counts(&progress));
    }
    out(summary);
    if cancelled {
        eprintln!(
            "campaign {id} was cancelled (`telephony campaign cancel`): {} contact(s) not \
             called; `telephony campaign resume {names}`, then this command, calls them",
            progress.total - progress.done
        );
    }
    Ok(())
}

/// `30s`, `1.5s`, `5m`: a duration as the flags write it.
pub(super) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Why [`follow`] returned.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// This dialer stopped: the campaign finished or was cancelled, or the dialer failed.
    Stopped,
    /// Ctrl-C.
    Interrupted,
}

/// Prints the campaign's events and progress until this dialer stops or Ctrl-C.
async fn follow(running: &mut RunningCampaign, view: &mut View) -> Stop {
    let period = if view.tty {
        REDRAW_EVERY
    } else {
        PROGRESS_EVERY
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            event = running.next_event() => match event {
                Some(DialerEvent::Finished(_)) | None => return Stop::Stopped,
                Some(event) => view.event(event),
            },
            _ = ticker.tick() => {
                // A store that fails now says so in a StoreError event.
                if let Ok(p) = running.progress().await {
                    view.progress(&p, running.calls_per_second(RATE_WINDOW));
                }
            }
            // A handler that could not be installed disables this branch.
            Ok(()) = &mut ctrl_c => return Stop::Interrupted,
        }
    }
}
