//! The [`RedisStore`](crate::RedisStore)'s keys and its Lua scripts: what each key holds,
//! the arguments each script takes and what it answers. The scripts' code is in `lua/`, one
//! file a script; the helpers in `lua/prelude.lua` are put before each script that uses them.
//!
//! # Keys
//!
//! A campaign's keys share the prefix `telephony:campaign:{NAME}:`, where `NAME` is the
//! campaign's name with `%`, `{` and `}` percent-encoded (so no two campaigns' keys meet, and
//! the braces make a hash tag):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `state` | string | `running`, `paused` or `cancelled` |
//! | `seq` | counter | the last contact's place in the list (1 for the first) |
//! | `contacts` | hash | number → the contact as JSON (its first row's) |
//! | `order` | list | the numbers, in list order (the results' order) |
//! | `rec:NUMBER` | hash | `status` (pending, claimed, done), `owner`, `due` (ms), `attempts`, `seq`, `in_flight` (attempt JSON), `last` (result JSON) |
//! | `due` | sorted set | pending contacts: score = due time in ms, member = `seq` zero-padded to 15 digits then the number, so equal times sort in list order (scores are exact: times are clamped below 2^53) |
//! | `held:OWNER` | sorted set | the contacts `OWNER` holds here, by `seq` |
//! | `owners` | set | the owners with a contact held here |
//! | `counts` | hash | `total`, `pending` (never attempted), `retrying`, `claimed`, `done`, `attempts` (finished attempts), `flying` (attempts in flight), `o:OUTCOME` (done contacts by outcome): kept by the scripts, so [`progress`](crate::CampaignStore::progress) reads one hash whatever the campaign's size |
//!
//! Keys across campaigns:
//!
//! | key | holds |
//! |---|---|
//! | `telephony:owner:OWNER` | the owner's lease: exists while it runs (`PX` = the lease) |
//! | `telephony:owner-campaigns:OWNER` | the prefixes of the campaigns where `OWNER` holds contacts (what [`retire`](crate::CampaignStore::retire) walks) |
//! | `telephony:pace:ACCOUNT` | the account's last reserved create slot, µs since the epoch on the server's clock |
//! | `telephony:replay:KEY` | a webhook replay key, until it expires |
//!
//! A claim whose owner's lease key is gone is an orphan: the next claim in its campaign takes
//! it, with the attempt it left in flight. A claim reads only the leases of the owners holding
//! contacts in its campaign (`owners`), not every claim.
//!
//! Pacing reads the server's clock (`TIME`) inside its script, so every replica shares one
//! budget whatever its own clock says.
//!
//! # Arguments
//!
//! The campaign scripts take their keys as arguments (`ARGV`), the prefix first, and build
//! the names above from it (a claim's keys are not known before it runs); only the pacing
//! script names its key in `KEYS`. Times are ms since the epoch, clamped by [`exact`].

use std::sync::LazyLock;

use ::redis::Script;

/// The largest integer a Lua number (a double) and a sorted-set score hold exactly.
pub(super) const MAX_EXACT: u64 = (1 << 53) - 1;
/// The longest pacing interval taken (about 101 days): slots stay exact for centuries.
pub(super) const MAX_STEP_US: u64 = 1 << 43;

/// A time or count as the scripts take it: clamped to what a double holds exactly (2^53 ms
/// is 285,000 years from now).
pub(super) fn exact(v: u64) -> u64 {
    v.min(MAX_EXACT)
}

/// The prefix of a campaign's keys.
pub(super) fn prefix(campaign: &str) -> String {
    let mut p = String::with_capacity(campaign.len() + 24);
    p.push_str("telephony:campaign:{");
    for ch in campaign.chars() {
        match ch {
            '%' => p.push_str("%25"),
            '{' => p.push_str("%7B"),
            '}' => p.push_str("%7D"),
            c => p.push(c),
        }
    }
    p.push_str("}:");
    p
}

/// A campaign's `state` key.
pub(super) fn state_key(campaign: &str) -> String {
    format!("{}state", prefix(campaign))
}

/// An owner's lease.
pub(super) fn owner_key(owner: &str) -> String {
    format!("telephony:owner:{owner}")
}

/// An account's pacing slot.
pub(super) fn pace_key(account: &str) -> String {
    format!("telephony:pace:{account}")
}

/// A webhook replay key, bounded in length.
pub(super) fn replay_key(key: &str) -> String {
    format!(
        "telephony:replay:{}",
        telephony_core::bounded_replay_key(key)
    )
}

/// A script whose code is `lua/prelude.lua` then `lua/$file`.
macro_rules! with_prelude {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("lua/prelude.lua"),
                include_str!(concat!("lua/", $file))
            ))
        })
    };
}

/// A script whose code is `lua/$file` alone.
macro_rules! alone {
    ($file:literal) => {
        LazyLock::new(|| Script::new(include_str!(concat!("lua/", $file))))
    };
}

/// ARGV: prefix, then number and contact JSON pairs. Creates the campaign (running) if new;
/// adds the numbers it does not hold, pending and due at once, in order. Returns how many.
pub(super) static ADD: LazyLock<Script> = with_prelude!("add.lua");

/// ARGV: prefix, owner, now (ms). An orphan first (the lowest `seq` among the contacts held
/// by owners whose lease is gone), else the earliest due pending contact. Returns
/// `{number, contact, attempts, in_flight or nil}`, or nil when nothing is due.
pub(super) static CLAIM: LazyLock<Script> = with_prelude!("claim.lua");

/// ARGV: prefix, number, owner, attempt JSON. Returns 1, or 0 when `owner` does not hold it.
pub(super) static RECORD: LazyLock<Script> = alone!("record.lua");

/// ARGV: prefix, number, owner, result JSON, attempts, `done` or the retry's due time (ms),
/// outcome. Returns 1, or 0 when `owner` does not hold it.
pub(super) static FINISH: LazyLock<Script> = with_prelude!("finish.lua");

/// ARGV: prefix, number, owner, due (ms). Returns 1, or 0 when `owner` does not hold it or
/// it has an attempt in flight.
pub(super) static DEFER: LazyLock<Script> = with_prelude!("defer.lua");

/// ARGV: owner. In every campaign where it holds contacts, gives back those with no attempt
/// in flight (due when they were); those with one stay, orphans once the lease is gone. Then
/// ends the lease.
pub(super) static RETIRE: LazyLock<Script> = with_prelude!("retire.lua");

/// KEYS: the account's pacing key. ARGV: interval (µs), the largest slot. On the server's
/// clock: slot = max(now, last + interval); stores it (kept until it no longer matters) and
/// returns slot - now in µs.
pub(super) static PACE: LazyLock<Script> = alone!("pace.lua");

/// ARGV: prefix. Returns `{state or nil, counts as field/value pairs, earliest due or nil}`.
pub(super) static PROGRESS: LazyLock<Script> = alone!("progress.lua");

/// ARGV: prefix, first and last place in the list. Returns, for each contact there,
/// contact JSON, status, attempts, last result JSON (or nil), flattened.
pub(super) static RESULTS: LazyLock<Script> = alone!("results.lua");
