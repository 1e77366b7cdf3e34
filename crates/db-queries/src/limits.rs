//! The one limit this case raises for itself: descriptors. Every request in flight holds a
//! socket in the server and another in the load generator, and servers raise their soft
//! `RLIMIT_NOFILE` to the hard limit as a matter of course. Raised in the parent, before the
//! harness reads its limits, it is inherited by every run and load generator. The caps that
//! follow from it are the harness's ([`casebook::limits`]).

/// Raises the soft descriptor limit to the hard one; returns the soft limit now in force.
pub fn raise_nofile() -> Option<u64> {
    // SAFETY: getrlimit and setrlimit only read and write the struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let soft = super::raise_nofile().expect("a finite descriptor limit");
        // SAFETY: as above.
        let hard = unsafe {
            let mut limit: libc::rlimit = std::mem::zeroed();
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
            limit.rlim_max
        };
        assert!(hard == libc::RLIM_INFINITY || soft == hard);
    }
}
