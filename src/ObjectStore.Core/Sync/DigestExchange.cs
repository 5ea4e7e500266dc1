namespace ObjectStore.Core.Sync;

/// <summary>The responder's answer for one range it was asked about.</summary>
/// <param name="Children">The 16 child digests, when the range differs and holds more than a leaf's worth here.</param>
/// <param name="Items">Every item here in the range, when it differs and holds at most a leaf's worth.</param>
public sealed record RangeAnswer(HashRange Range, IReadOnlyList<RangeDigest>? Children, IReadOnlyList<ulong>? Items);

/// <summary>
/// One comparison of two nodes' <see cref="DigestTree"/>s, driven by the side that asks: it sends digests of
/// ranges, the other side answers each that differs with its children or, once small, its items, and the
/// asker descends only into the children that differ. In sync, one round of one digest; one item apart,
/// about log16(n / leaf) rounds. What the peer lacks comes out in <see cref="PeerLacks"/> (the asker can
/// send it); what the asker lacks it sees only in part (<see cref="SelfLacks"/>): the peer's own exchange sends it.
/// </summary>
public sealed class DigestExchange
{
    /// <summary>Items a range may hold for the responder to list them rather than split it.</summary>
    public const int LeafSize = 64;

    private readonly DigestTree _mine;
    private readonly Queue<RangeDigest> _pending = new();
    private int _asked;

    public DigestExchange(DigestTree mine)
    {
        _mine = mine;
        _pending.Enqueue(mine.Digest(HashRange.Root));
    }

    /// <summary>Nothing left to ask and every request answered.</summary>
    public bool Done => _pending.Count == 0 && _asked == 0;

    /// <summary>
    /// The next digests to send, at most <paramref name="max"/> (a message must fit a frame: an answer to a
    /// range is at most 16 digests or a leaf's items, about 0.5 KB). Answer them with <see cref="Take"/>.
    /// </summary>
    public IReadOnlyList<RangeDigest> NextRequest(int max)
    {
        if (_asked > 0) throw new InvalidOperationException("the previous request is not answered yet");
        var request = new List<RangeDigest>(Math.Min(max, _pending.Count));
        while (request.Count < max && _pending.TryDequeue(out var range)) request.Add(range);
        _asked = request.Count;
        Rounds++;
        DigestsSent += request.Count;
        return request;
    }

    public int Rounds { get; private set; }
    /// <summary>Digests and items that crossed, both ways, for the cost of an exchange.</summary>
    public long DigestsSent { get; private set; }
    public long DigestsReceived { get; private set; }
    public long ItemsReceived { get; private set; }

    public List<ulong> PeerLacks { get; } = [];
    public List<ulong> SelfLacks { get; } = [];

    /// <summary>The responder's side: answers the ranges whose digests differ from its own.</summary>
    public static IReadOnlyList<RangeAnswer> Answer(DigestTree tree, IReadOnlyList<RangeDigest> asked)
    {
        var answers = new List<RangeAnswer>();
        foreach (var theirs in asked)
        {
            var mine = tree.Digest(theirs.Range);
            if (mine.Count == theirs.Count && mine.Hash == theirs.Hash) continue;
            answers.Add(mine.Count <= LeafSize || theirs.Range.Depth >= HashRange.MaxDepth
                ? new RangeAnswer(theirs.Range, null, tree.Items(theirs.Range).ToArray())
                : new RangeAnswer(theirs.Range, theirs.Range.Children().Select(tree.Digest).ToList(), null));
        }
        return answers;
    }

    /// <summary>Takes the responder's answers to the last request and queues the ranges to ask about next.</summary>
    public void Take(IReadOnlyList<RangeAnswer> answers)
    {
        _asked = 0;
        foreach (var answer in answers)
        {
            if (answer.Items is { } theirs)
            {
                ItemsReceived += theirs.Count;
                var peer = theirs.ToHashSet();
                foreach (var item in _mine.Items(answer.Range))
                    if (!peer.Contains(item)) PeerLacks.Add(item);
                foreach (var item in theirs)
                    if (!_mine.Contains(item)) SelfLacks.Add(item);
                continue;
            }
            foreach (var child in answer.Children ?? [])
            {
                DigestsReceived++;
                var mine = _mine.Digest(child.Range);
                if (mine.Count == child.Count && mine.Hash == child.Hash) continue;
                if (child.Count == 0)
                {
                    // The peer has nothing here: everything of mine in it is missing there, no need to ask.
                    PeerLacks.AddRange(_mine.Items(child.Range).ToArray());
                    continue;
                }
                // I have nothing here: what the peer has, its own exchange with me will send.
                if (mine.Count == 0) continue;
                _pending.Enqueue(mine);
            }
        }
    }
}
