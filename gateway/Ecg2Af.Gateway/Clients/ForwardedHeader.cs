using System.Net;
using Microsoft.Extensions.Primitives;

namespace Ecg2Af.Gateway.Clients;

/// <summary>
/// Parses the client chain of <c>X-Forwarded-For</c> and of RFC 7239 <c>Forwarded</c> (its <c>for=</c> parameters),
/// left (original client) to right (nearest proxy). An entry that is not an address is kept as null.
/// </summary>
internal static class ForwardedHeader
{
    public static List<IPAddress?> XForwardedFor(StringValues values)
    {
        var hops = new List<IPAddress?>();
        foreach (var value in values)
        {
            foreach (var entry in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (entry.Length > 0)
                {
                    hops.Add(Node(entry));
                }
            }
        }

        return hops;
    }

    public static List<IPAddress?> ForAddresses(StringValues values)
    {
        var hops = new List<IPAddress?>();
        foreach (var value in values)
        {
            foreach (var element in SplitOutsideQuotes(value ?? "", ','))
            {
                IPAddress? hop = null;
                foreach (var pair in SplitOutsideQuotes(element, ';'))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals > 0 && pair[..equals].Trim().Equals("for", StringComparison.OrdinalIgnoreCase))
                    {
                        hop = Node(Unquote(pair[(equals + 1)..].Trim()));
                    }
                }

                hops.Add(hop);
            }
        }

        return hops;
    }

    /// <summary>
    /// One node: <c>192.0.2.1</c>, <c>192.0.2.1:4711</c>, <c>2001:db8::1</c> or <c>[2001:db8::1]:4711</c>.
    /// <c>unknown</c>, obfuscated identifiers (<c>_hidden</c>) and anything else give null.
    /// </summary>
    internal static IPAddress? Node(string node)
    {
        if (IPAddress.TryParse(node, out var address) && !node.StartsWith('['))
        {
            return address;
        }

        if (node.StartsWith('['))
        {
            var close = node.IndexOf(']', StringComparison.Ordinal);
            return close > 1 && IPAddress.TryParse(node.AsSpan(1, close - 1), out var v6) ? v6 : null;
        }

        var colon = node.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && node.IndexOf(':', colon + 1) < 0 && IPAddress.TryParse(node.AsSpan(0, colon), out var v4) &&
               v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? v4
            : null;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal) : value;

    private static IEnumerable<string> SplitOutsideQuotes(string value, char separator)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && quoted)
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == separator && !quoted)
            {
                yield return value[start..i].Trim();
                start = i + 1;
            }
        }

        var last = value[start..].Trim();
        if (last.Length > 0)
        {
            yield return last;
        }
    }
}
