using System.Threading.RateLimiting;

namespace ObjectStore.Actors.Replication.Repair;

/// <summary>
/// A bytes-per-second limit that background work (repair, scrubbing) draws on: System.Threading.RateLimiting's
/// token bucket with a token per byte, holding at most <c>burst</c> worth and refilled ten times per burst.
/// A request larger than the bucket is taken in pieces.
/// </summary>
public sealed class ByteRate : IDisposable
{
    private readonly TokenBucketRateLimiter _bucket;
    private readonly int _limit;

    public ByteRate(int bytesPerSecond, TimeSpan burst)
    {
        _limit = (int)Math.Max(1, bytesPerSecond * burst.TotalSeconds);
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = _limit,
            TokensPerPeriod = Math.Max(1, _limit / 10),
            ReplenishmentPeriod = burst / 10,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    /// <summary>Waits until the limit allows <paramref name="bytes"/> more.</summary>
    public async Task Take(long bytes)
    {
        for (var left = bytes; left > 0; left -= _limit)
        {
            using var lease = await _bucket.AcquireAsync((int)Math.Min(left, _limit));
            if (!lease.IsAcquired) throw new InvalidOperationException("the rate limiter refused the request (it is shutting down)");
        }
    }

    public void Dispose() => _bucket.Dispose();
}
