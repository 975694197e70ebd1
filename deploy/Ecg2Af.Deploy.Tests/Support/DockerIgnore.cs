using System.Text;
using System.Text.RegularExpressions;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// <c>.dockerignore</c> as Docker reads it: patterns relative to the context root, <c>*</c> and <c>?</c> within a
/// path segment, <c>**</c> across segments, <c>!</c> re-includes, the last matching line wins, and a pattern that
/// matches a directory excludes everything under it.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude)> _rules = [];

    public DockerIgnore(string path)
    {
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().TrimStart('/').TrimEnd('/');
            _rules.Add((new Regex("^" + ToRegex(pattern) + "(/.*)?$", RegexOptions.CultureInvariant), exclude));
        }
    }

    /// <summary>Whether <paramref name="relativePath"/> (forward slashes, from the context root) is left out of the context.</summary>
    public bool Excludes(string relativePath)
    {
        var path = relativePath.Replace('\\', '/').Trim('/');
        var excluded = false;
        foreach (var (pattern, exclude) in _rules)
        {
            if (pattern.IsMatch(path))
            {
                excluded = exclude;
            }
        }

        return excluded;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" matches zero or more whole segments; a trailing "**" matches anything.
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }

        return regex.ToString();
    }
}
