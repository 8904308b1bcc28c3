//! The planner's definition, written the slow and obvious way: every
//! displayed frame with its span, the best candidate of each window by
//! brute force, and the invariants a decode plan must keep. The property
//! tests and the fuzz target (tests/fuzz) hold [`Planner`] to it.

use super::{Choice, Frame, Planner, Request, Run, Window};
use crate::asset::FrameIndex;
use std::num::NonZeroUsize;

/// `ensure!(cond, "why {}", x)`: fails the check with the message.
macro_rules! ensure {
    ($cond:expr $(,)?) => {
        if !$cond {
            return Err(format!("check failed: {}", stringify!($cond)));
        }
    };
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// `ensure_eq!(got, want)`: fails the check showing both.
macro_rules! ensure_eq {
    ($got:expr, $want:expr $(,)?) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err(format!(
                "{} = {:?}, expected {} = {:?}",
                stringify!($got),
                got,
                stringify!($want),
                want
            ));
        }
    }};
}

/// Where a frame's decoding starts, by walking back.
fn naive_start(index: &FrameIndex, packet: usize, pts: i64) -> (usize, bool) {
    (0..=packet)
        .rev()
        .find(|&j| index.packets[j].sync && index.packets[j].pts.is_some_and(|s| s <= pts))
        .map_or((0, false), |j| (j, true))
}

/// Every displayed frame with its span, straight from the definition.
pub fn naive_spans(index: &FrameIndex) -> Vec<(Frame, i64)> {
    let shown: Vec<(i64, usize)> = index
        .presentation
        .iter()
        .map(|&i| (index.packets[i as usize].pts.expect("shown"), i as usize))
        .collect();
    shown
        .iter()
        .enumerate()
        .map(|(k, &(pts, packet))| {
            let until = shown.get(k + 1).map_or(index.end, |n| n.0);
            let (start, guaranteed) = naive_start(index, packet, pts);
            let frame = Frame {
                part: 0,
                packet,
                pts,
                start,
                guaranteed,
            };
            (frame, until)
        })
        .filter(|(f, until)| f.pts < *until)
        .collect()
}

pub fn is_candidate(span: &(Frame, i64), window: Window) -> bool {
    window.hi.is_none_or(|hi| span.0.pts <= hi) && window.lo.is_none_or(|lo| span.1 > lo)
}

pub fn check(index: &FrameIndex, requests: &[Request], workers: usize) -> Result<(), String> {
    let spans = naive_spans(index);
    let planner = Planner::new(index);
    let plan = planner.plan(requests);
    ensure_eq!(plan.choices.len(), requests.len());

    for (request, choice) in requests.iter().zip(&plan.choices) {
        let candidates: Vec<_> = spans
            .iter()
            .filter(|s| is_candidate(s, request.window))
            .collect();
        let best = candidates
            .iter()
            .min_by_key(|(f, _)| {
                (
                    !f.guaranteed,
                    f.cost(),
                    f.pts.abs_diff(request.target),
                    f.pts,
                )
            })
            .map(|(f, _)| *f);
        match (choice, best) {
            (Choice::NoImageAtTime, None) => {}
            (Choice::Frame(f), Some(best)) => {
                ensure_eq!(*f, best);
                ensure!(index.packets[f.packet].shown);
                let span = spans
                    .iter()
                    .find(|s| s.0 == *f)
                    .ok_or("the chosen frame is not displayed")?;
                ensure!(is_candidate(span, request.window));
                for (c, _) in &candidates {
                    ensure!((!c.guaranteed, c.cost()) >= (!f.guaranteed, f.cost()));
                }
                if let Window {
                    lo: Some(lo),
                    hi: Some(hi),
                } = request.window
                {
                    if lo == hi {
                        ensure!(f.pts <= lo && lo < span.1);
                    }
                }
            }
            (choice, best) => ensure!(false, "{:?} but expected {:?}", choice, best),
        }
    }

    // Every answered request is delivered by exactly one target, once.
    let mut delivered = vec![0usize; requests.len()];
    let runs = plan.decode.runs();
    for run in runs {
        ensure!(run.start() <= run.end());
        ensure!(run.start() == 0 || index.packets[run.start()].sync);
        let packets: Vec<usize> = run.targets().iter().map(|t| t.packet).collect();
        ensure!(packets.windows(2).all(|w| w[0] < w[1]));
        ensure_eq!(packets.last().copied(), Some(run.end()));
        for target in run.targets() {
            ensure!(!target.requests.is_empty());
            for &id in &target.requests {
                delivered[id] += 1;
                let Choice::Frame(f) = plan.choices[id] else {
                    return Err("delivered an unanswered request".into());
                };
                ensure_eq!((f.packet, f.pts), (target.packet, target.pts));
                ensure!(run.start() <= f.start);
            }
        }
        let mut fed = Vec::new();
        for span in run.spans() {
            fed.extend(span.lead.clone());
            ensure!(!packets.iter().any(|p| span.lead.contains(p)));
            fed.push(span.target.packet);
        }
        ensure_eq!(fed, (run.start()..=run.end()).collect::<Vec<_>>());
    }
    for (id, choice) in plan.choices.iter().enumerate() {
        let want = usize::from(matches!(choice, Choice::Frame(_)));
        ensure_eq!(delivered[id], want);
    }
    // In decode order, disjoint, with no run that could have fed on.
    ensure!(runs.windows(2).all(|w| w[0].end() + 1 < w[1].start()));
    // Exactly the packets some chosen frame needs.
    let mut needed = vec![false; index.packets.len()];
    for choice in &plan.choices {
        if let Choice::Frame(f) = choice {
            needed[f.start..=f.packet]
                .iter_mut()
                .for_each(|n| *n = true);
        }
    }
    ensure_eq!(plan.decode.packets(), needed.iter().filter(|&&n| n).count());

    // Sharing cuts runs at their seams only (one lane: not at all), and
    // balances: no lane is more than its longest piece above the least
    // loaded (the longest-first rule's bound, which the exchanges only
    // improve).
    let lanes = NonZeroUsize::new(workers).ok_or("no workers to share the plan among")?;
    let mut shares = plan.decode.clone().share(lanes);
    let loads: Vec<usize> = shares
        .0
        .iter()
        .map(|share| share.iter().map(Run::packets).sum())
        .collect();
    // Lanes taking turns get every piece exactly once.
    let mut pieces: Vec<Run> = Vec::new();
    let mut lane = 0;
    while let Some(run) = shares.next(lane % workers) {
        pieces.push(run);
        lane += 1;
    }
    pieces.sort_by_key(Run::start);
    ensure_eq!(loads.len(), workers.min(pieces.len()));
    let longest = pieces.iter().map(Run::packets).max().unwrap_or(0);
    if let (Some(&lo), Some(&hi)) = (loads.iter().min(), loads.iter().max()) {
        ensure!(hi - lo <= longest);
    }
    let mut pieces = pieces.into_iter().peekable();
    for run in runs {
        let mut cuts = vec![run.start()];
        if workers > 1 {
            cuts.extend_from_slice(run.seams());
        }
        let mut targets = Vec::new();
        for (k, &cut) in cuts.iter().enumerate() {
            let piece = pieces.next().ok_or("a run's piece is missing")?;
            let end = cuts.get(k + 1).map_or(run.end(), |&next| next - 1);
            ensure_eq!(
                (piece.part(), piece.start(), piece.end()),
                (run.part(), cut, end)
            );
            for target in piece.targets() {
                ensure!(target.packet <= piece.end());
                for &id in &target.requests {
                    if let Choice::Frame(f) = &plan.choices[id] {
                        ensure!(f.start >= piece.start());
                    }
                }
            }
            targets.extend_from_slice(piece.targets());
        }
        ensure_eq!(targets.as_slice(), run.targets());
    }
    ensure!(pieces.next().is_none());
    Ok(())
}
