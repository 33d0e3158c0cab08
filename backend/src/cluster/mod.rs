//! Cluster mode's building blocks on Redis (not wired into the server yet): name leases
//! (`leases.rs`), one delivery channel per node (`node_channel.rs`) and call records
//! (`calls.rs`). Each is tested against a real `redis-server` that the test starts itself
//! (`test_redis.rs`).

#[cfg(test)]
pub mod test_redis;

#[cfg(test)]
mod tests {
    use super::test_redis::{answers_ping, TestRedis};

    #[test]
    fn a_test_redis_answers_can_be_killed_and_restarted_on_its_port_and_is_killed_on_drop() {
        let mut redis = TestRedis::start();
        let port = redis.port();
        assert!(answers_ping(port));
        redis.kill();
        assert!(!answers_ping(port));
        redis.restart();
        assert_eq!(redis.port(), port);
        assert!(answers_ping(port));
        let pid = redis.pid().expect("running");
        drop(redis);
        assert!(!answers_ping(port));
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the process is gone");
    }
}
