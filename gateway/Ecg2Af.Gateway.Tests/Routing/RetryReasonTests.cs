using Ecg2Af.Gateway.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Ecg2Af.Gateway.Tests.Routing;

public class RetryReasonTests
{
    [Theory]
    [InlineData(ForwarderError.Request)]
    [InlineData(ForwarderError.RequestBodyDestination)]
    public void For_RefusedOrResetBeforeAnyResponse_Transport(ForwarderError error)
    {
        Assert.Equal(RetryReason.Transport, RetryReason.For(anotherWorkerLeft: true, heldBack503: false, error, responseStarted: false, clientGone: false));
    }

    [Fact]
    public void For_HeldBack503_Retried()
    {
        Assert.Equal(RetryReason.ServiceUnavailable, RetryReason.For(true, heldBack503: true, ForwarderError.None, false, false));
    }

    [Theory]
    [InlineData(ForwarderError.None)] // any answer the worker gave, 4xx included, goes to the client as it is
    [InlineData(ForwarderError.RequestTimedOut)]
    [InlineData(ForwarderError.ResponseBodyDestination)]
    [InlineData(ForwarderError.RequestCanceled)]
    [InlineData(ForwarderError.RequestBodyClient)]
    [InlineData(ForwarderError.NoAvailableDestinations)]
    public void For_OtherOutcomes_NotRetried(ForwarderError error)
    {
        Assert.Null(RetryReason.For(true, false, error, false, false));
    }

    [Fact]
    public void For_ResponseAlreadyStarted_NeverRetried()
    {
        Assert.Null(RetryReason.For(true, heldBack503: false, ForwarderError.Request, responseStarted: true, clientGone: false));
    }

    [Fact]
    public void For_ClientGone_NotRetried()
    {
        Assert.Null(RetryReason.For(true, heldBack503: true, ForwarderError.None, false, clientGone: true));
    }

    [Fact]
    public void For_NoOtherWorkerLeft_NotRetried()
    {
        Assert.Null(RetryReason.For(anotherWorkerLeft: false, heldBack503: false, ForwarderError.Request, false, false));
    }

    [Theory]
    [InlineData(ForwarderError.None, 503, "http_5xx")]
    [InlineData(ForwarderError.None, 422, null)]
    [InlineData(ForwarderError.Request, 502, "transport")]
    [InlineData(ForwarderError.RequestTimedOut, 504, "timeout")]
    [InlineData(ForwarderError.RequestCanceled, 400, null)]
    public void ErrorKind_CountsWorkerFaultsOnly(ForwarderError error, int status, string? kind)
    {
        Assert.Equal(kind, ForwardingAttempts.ErrorKind(error, status));
    }
}
