using System.Net;
using Ecg2Af.Gateway.WarmUp;
using Ecg2Af.Security;

namespace Ecg2Af.Gateway.Tests.WarmUp;

/// <summary>The warm-up's own key lets in only the warm-up: its text, over loopback, until the warm-up ends.</summary>
public class WarmUpKeyTests
{
    [Fact]
    public void Find_ItsKeyOverLoopbackWhileOpen_ThePredictOnlyWarmUpEntry()
    {
        var key = new WarmUpKey();

        var entry = key.Find(key.Key, IPAddress.Loopback);

        Assert.NotNull(entry);
        Assert.Equal(WarmUpCallers.Gateway, entry.Id);
        Assert.Equal([ApiKeyScopes.Predict], entry.Scopes);
        Assert.NotNull(key.Find(key.Key, IPAddress.IPv6Loopback));
    }

    [Fact]
    public void Find_FromAnotherAddressOrAnotherKey_Nothing()
    {
        var key = new WarmUpKey();

        Assert.Null(key.Find(key.Key, IPAddress.Parse("10.0.0.7")));
        Assert.Null(key.Find(key.Key, null));
        Assert.Null(key.Find(ApiKeyGenerator.Create(), IPAddress.Loopback));
        Assert.Null(key.Find(key.Key[..^1], IPAddress.Loopback));
        Assert.Null(key.Find("", IPAddress.Loopback));
    }

    [Fact]
    public void Find_AfterClose_NothingAndTheTextIsGone()
    {
        var key = new WarmUpKey();
        var text = key.Key;

        key.Close();

        Assert.False(key.IsOpen);
        Assert.Null(key.Find(text, IPAddress.Loopback));
        Assert.Equal("", key.Key);
    }

    [Fact]
    public void New_EveryGatewayItsOwnRandomKey()
    {
        var a = new WarmUpKey();
        var b = new WarmUpKey();

        Assert.NotEqual(a.Key, b.Key);
        Assert.Null(b.Find(a.Key, IPAddress.Loopback));
        Assert.StartsWith(ApiKeyGenerator.Prefix, a.Key, StringComparison.Ordinal);
    }
}
