namespace Totoro.Actors.Fl;

/// <summary>
/// Seeds derived from (app seed, app name, round, worker), so every random choice of a round is reproducible and
/// independent of where the code runs: a Totoro run and the star baseline with the same app seed select the same
/// workers and shuffle the same batches.
/// </summary>
internal static class FlSeeds
{
    public static int Derive(int appSeed, string app, long round, long worker = -1)
    {
        var h = Mix((ulong)(uint)appSeed ^ 0x7070_7070_7070_7070UL);
        foreach (var c in app)
        {
            h = Mix(h ^ c);
        }

        h = Mix(h ^ (ulong)round);
        h = Mix(h ^ (ulong)worker);
        return (int)(h & 0x7FFF_FFFF);
    }

    /// <summary>SplitMix64's finaliser: a bijective avalanche over 64 bits.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
