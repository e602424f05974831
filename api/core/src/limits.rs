//! Request rates, per client address and per account (GCRA: a steady rate with bursts).
//! One instance counts in memory; several share their counts through Redis
//! (`XUNCHA_REDIS_URL`), so that a limit holds whichever instance a request reaches. A
//! district behind one exit address (carrier NAT, a government network) shares the
//! address's rate, so that rate is high; each account has a rate of its own beside it.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use redis::aio::ConnectionManager;
use secrecy::ExposeSecret;

use entity::ids::UserId;

use crate::config::Settings;

/// A rate: sustained requests per second, and how many may come at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let nonzero = |n: u32| NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::per_second(nonzero(self.per_second)).allow_burst(nonzero(self.burst))
    }

    /// Microseconds between requests at the sustained rate.
    fn interval_us(self) -> u64 {
        1_000_000 / u64::from(self.per_second.max(1))
    }
}

/// What a request may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused: try again after this long.
    Wait(Duration),
}

pub struct RateLimiter {
    address: Rate,
    account: Rate,
    counts: Counts,
}

enum Counts {
    Local {
        addresses: DefaultKeyedRateLimiter<IpAddr>,
        accounts: DefaultKeyedRateLimiter<UserId>,
    },
    Shared {
        connection: ConnectionManager,
        gcra: redis::Script,
    },
}

/// GCRA over any number of keys, on the Redis server's clock: each key's theoretical
/// arrival time is kept in microseconds. A request passes only if every key passes, and
/// only then is it counted. Answers 0, or the microseconds to wait.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local next_tat = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tau = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  if new_tat - now > tau then
    wait = math.max(wait, new_tat - now - tau)
  end
  next_tat[i] = new_tat
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, next_tat[i], 'PX', math.ceil((next_tat[i] - now) / 1000) + 1000)
end
return 0
"#;

/// The address a request is counted under: an IPv4 address (also when written as IPv6),
/// or an IPv6 /64 — what one subscriber is given, so that rotating through its 2^64
/// addresses does not escape the limit.
fn counted_as(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

impl RateLimiter {
    /// In memory, or shared through Redis when `XUNCHA_REDIS_URL` is set (connected now, so
    /// that a wrong address stops the start).
    pub async fn new(settings: &Settings) -> anyhow::Result<Self> {
        let address = settings.rate_limit_per_address;
        let account = settings.rate_limit_per_account;
        let counts = match &settings.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("XUNCHA_REDIS_URL: {e}"))?;
                let connection = ConnectionManager::new(client)
                    .await
                    .map_err(|e| anyhow::anyhow!("XUNCHA_REDIS_URL: cannot connect: {e}"))?;
                Counts::Shared {
                    connection,
                    gcra: redis::Script::new(GCRA),
                }
            }
            None => Counts::Local {
                addresses: governor::RateLimiter::keyed(address.quota()),
                accounts: governor::RateLimiter::keyed(account.quota()),
            },
        };
        Ok(Self {
            address,
            account,
            counts,
        })
    }

    pub fn is_shared(&self) -> bool {
        matches!(self.counts, Counts::Shared { .. })
    }

    /// Counts a request from `address`, signed in as `account` if it is.
    pub async fn check(&self, address: IpAddr, account: Option<UserId>) -> Verdict {
        let address = counted_as(address);
        match &self.counts {
            Counts::Local {
                addresses,
                accounts,
            } => {
                let now = DefaultClock::default().now();
                if let Err(until) = addresses.check_key(&address) {
                    return Verdict::Wait(until.wait_time_from(now));
                }
                match account.map(|a| accounts.check_key(&a)) {
                    Some(Err(until)) => Verdict::Wait(until.wait_time_from(now)),
                    _ => Verdict::Allowed,
                }
            }
            Counts::Shared { connection, gcra } => {
                let mut script = gcra.prepare_invoke();
                let mut add = |key: String, rate: Rate| {
                    let interval = rate.interval_us();
                    script
                        .key(key)
                        .arg(interval)
                        .arg(interval * u64::from(rate.burst.max(1)));
                };
                add(format!("xuncha:rate:ip:{address}"), self.address);
                if let Some(account) = account {
                    add(format!("xuncha:rate:user:{account}"), self.account);
                }
                let mut connection = connection.clone();
                match script.invoke_async::<u64>(&mut connection).await {
                    Ok(0) => Verdict::Allowed,
                    Ok(wait_us) => Verdict::Wait(Duration::from_micros(wait_us)),
                    // Redis down: the service stays up, unlimited, and says so.
                    Err(err) => {
                        tracing::warn!(error = %err, "rate limiter unreachable; request let through");
                        Verdict::Allowed
                    }
                }
            }
        }
    }

    /// Forgets in-memory counts that have refilled (the shared ones expire in Redis).
    pub fn forget_idle(&self) {
        if let Counts::Local {
            addresses,
            accounts,
        } = &self.counts
        {
            addresses.retain_recent();
            addresses.shrink_to_fit();
            accounts.retain_recent();
            accounts.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_subscriber_is_counted_as_its_64_and_mapped_ipv4_as_itself() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb:cccc:dddd:eeee".parse().unwrap();
        assert_eq!(counted_as(one), counted_as(other));
        assert_ne!(
            counted_as(one),
            counted_as("2001:db8:1:3::1".parse().unwrap())
        );
        assert_eq!(
            counted_as("::ffff:198.51.100.7".parse().unwrap()),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }
}
