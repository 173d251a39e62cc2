"""A held conversation lock on Redis, in two round trips per customer turn.

A turn takes the lock, reads the conversation, writes it back and releases the lock: four
round trips with redis-py's lock (SET NX, GET, SET, the release script), about a sixth of
a turn's CPU (tandem bench load, py-spy). Here taking the lock also reads the conversation
(:data:`TAKE`), and releasing it also writes what the holder put (:data:`RELEASE`): the
holder's :meth:`Holding.get` and :meth:`Holding.put` in between cost no round trip. Holding
the lock, nobody else may write the conversation, so the copy read at the start stays true
and the write may wait for the release.

The write happens at the release even when the lock was lost, as the immediate write it
stands for would have; the release then reports the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.model import LiveConversation
from handoff.state import codec

# KEYS: the lock, the conversation. ARGV: the token, the lease in ms.
# Returns {1, the conversation or false} when taken, {0} when someone holds it.
TAKE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return {1, redis.call('get', KEYS[2])}
end
return {0}
"""

# KEYS: the lock, the conversation. ARGV: the token, then what to do with the
# conversation ('keep', 'put', 'delete'), its value and its time to live in ms ('' for
# none). Returns 1 when the lock was released, 0 when it had been lost.
RELEASE = """
if ARGV[2] == 'put' then
    if ARGV[4] == '' then
        redis.call('set', KEYS[2], ARGV[3])
    else
        redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4])
    end
elseif ARGV[2] == 'delete' then
    redis.call('del', KEYS[2])
end
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('del', KEYS[1])
    return 1
end
return 0
"""

# KEYS: the lock. ARGV: the token, the lease in ms. Returns 1 when renewed, 0 when lost.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

KEEP, PUT, DELETE = "keep", "put", "delete"


@dataclass(slots=True, kw_only=True)
class Holding:
    """One holder's lock on one conversation: the copy it read when it took the lock and
    what it will write when it releases it."""

    lock: str  # the lock's key
    conversation: str  # the conversation's key
    token: str
    stored: bytes | str | None  # the conversation as read with the lock, decoded when asked
    value: LiveConversation | None = None
    write: str = KEEP
    lost: bool = False  # a renewal found the lock gone: not renewed again

    def get(self) -> LiveConversation | None:
        if self.write == KEEP:
            return None if self.stored is None else codec.decode(self.stored)
        return self.value

    def put(self, value: LiveConversation) -> None:
        self.value, self.write = value, PUT

    def delete(self) -> None:
        self.value, self.write = None, DELETE

    def written(self) -> str:
        """The value to write at the release ('' unless put)."""
        return codec.encode(self.value) if self.write == PUT and self.value else ""
