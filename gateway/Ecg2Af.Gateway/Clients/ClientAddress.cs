using System.Net;

namespace Ecg2Af.Gateway.Clients;

/// <summary>
/// Finds the client's address: the connection's peer, or, when that peer is a trusted proxy, the address the proxy
/// says it forwarded for (<c>Forwarded: for=</c>, RFC 7239, else <c>X-Forwarded-For</c>), walking right to left
/// through trusted hops only. The result replaces <see cref="ConnectionInfo.RemoteIpAddress"/>, so the hash policy,
/// the rate limiter and YARP's <c>X-Forwarded-For</c> to the worker all see the same client.
/// </summary>
internal static class ClientAddress
{
    /// <summary>IPv4-mapped IPv6 (<c>::ffff:a.b.c.d</c>) folded to IPv4, so a dual-stack listener does not split one client in two.</summary>
    public static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    public static IPAddress? Resolve(IPAddress? peer, IHeaderDictionary headers, TrustedProxies trusted)
    {
        var client = Normalize(peer);
        if (client is null || trusted.IsEmpty || !trusted.Contains(client))
        {
            return client;
        }

        var hops = headers.ContainsKey("Forwarded")
            ? ForwardedHeader.ForAddresses(headers["Forwarded"])
            : ForwardedHeader.XForwardedFor(headers["X-Forwarded-For"]);
        var used = 0;
        for (var i = hops.Count - 1; i >= 0 && used < trusted.ForwardLimit && trusted.Contains(client); i--, used++)
        {
            // An unusable hop ("unknown", an obfuscated name, garbage) ends the walk at the last address we trust.
            if (Normalize(hops[i]) is not { } hop)
            {
                break;
            }

            client = hop;
        }

        return client;
    }
}

/// <summary>Sets the connection's remote address to the resolved client address (see <see cref="ClientAddress"/>).</summary>
internal sealed class ClientAddressMiddleware(RequestDelegate next, TrustedProxies trusted)
{
    public Task InvokeAsync(HttpContext context)
    {
        var connection = context.Connection;
        connection.RemoteIpAddress = ClientAddress.Resolve(connection.RemoteIpAddress, context.Request.Headers, trusted);
        return next(context);
    }
}
