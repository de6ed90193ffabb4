//! The correctness verdict of a fan-out: every subscriber must have
//! received every successfully sent message of its group exactly once.

use std::sync::atomic::{AtomicBool, Ordering};

use super::fanout::DRAIN_TIMEOUT;
use super::subscriber::Tally;
use crate::report::Report;

/// Every subscriber must hold each successfully sent message exactly once.
pub fn check_exactly_once(
    report: &mut Report,
    slots: &[(usize, usize)],
    tallies: &[Tally],
    sent_ok: &[Vec<AtomicBool>],
    attempted: usize,
) {
    let (mut missing, mut duplicates, mut ended) = (0u64, 0u64, 0u64);
    let mut first_problem = None;
    for (&(group, member), tally) in slots.iter().zip(tallies) {
        if let Some(reason) = &tally.ended {
            ended += 1;
            first_problem.get_or_insert_with(|| {
                format!("group {group} member {member}: subscription ended: {reason}")
            });
        }
        let sent = sent_ok[group].iter().zip(&tally.counts).take(attempted);
        for (local, (sent, &count)) in sent.enumerate() {
            let expected = local == 0 || sent.load(Ordering::Relaxed);
            if expected && count == 0 {
                missing += 1;
                first_problem.get_or_insert_with(|| {
                    format!("group {group} member {member}: message {local} not delivered within {DRAIN_TIMEOUT:?} of the last send")
                });
            }
            if count > 1 {
                duplicates += u64::from(count) - 1;
                first_problem.get_or_insert_with(|| {
                    format!("group {group} member {member}: message {local} arrived {count} times")
                });
            }
        }
    }
    let malformed: u64 = tallies.iter().map(|tally| tally.malformed).sum();
    report.set("missing", missing);
    report.set("duplicates", duplicates);
    report.set("malformed", malformed);
    if missing + duplicates + ended + malformed > 0 {
        report.fail(format!(
            "exactly-once violated: {missing} missing, {duplicates} duplicates, {ended} subscriptions ended, {malformed} malformed frames; first: {}",
            first_problem.unwrap_or_default()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(flags: &[bool]) -> Vec<Vec<AtomicBool>> {
        vec![flags.iter().map(|&flag| AtomicBool::new(flag)).collect()]
    }

    fn tally(counts: Vec<u8>) -> Tally {
        Tally {
            counts,
            malformed: 0,
            ended: None,
        }
    }

    #[test]
    fn a_lost_or_duplicated_delivery_fails_the_run() {
        let slots = [(0, 0), (0, 1)];
        let mut clean = Report::new("clean");
        check_exactly_once(
            &mut clean,
            &slots,
            &[tally(vec![1, 1, 0]), tally(vec![1, 1, 0])],
            &sent(&[true, true, false]),
            3,
        );
        assert!(clean.failures.is_empty());

        let mut lost = Report::new("lost");
        check_exactly_once(
            &mut lost,
            &slots,
            &[tally(vec![1, 1, 0]), tally(vec![1, 0, 0])],
            &sent(&[true, true, false]),
            3,
        );
        assert_eq!(lost.failures.len(), 1, "a missing delivery is a failure");

        let mut doubled = Report::new("doubled");
        check_exactly_once(
            &mut doubled,
            &slots,
            &[tally(vec![1, 2, 0]), tally(vec![1, 1, 0])],
            &sent(&[true, true, false]),
            3,
        );
        assert_eq!(doubled.failures.len(), 1, "a duplicate is a failure");
    }
}
