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

    [Fact]
    public void Classify_ConnectTimeout_IsATransportFailureAndRetried()
    {
        // What SocketsHttpHandler throws when ConnectTimeout passes; YARP files it as RequestTimedOut.
        var connectTimeout = new TaskCanceledException("The connect timed out.", new TimeoutException("A connection could not be established in time."));

        var error = RetryReason.Classify(ForwarderError.RequestTimedOut, connectTimeout);

        Assert.Equal(ForwarderError.Request, error);
        Assert.Equal(RetryReason.Transport, RetryReason.For(true, false, error, false, false));
        Assert.Equal("transport", ForwardingAttempts.ErrorKind(error, 504));
    }

    [Fact]
    public void Classify_ActivityTimeoutWithoutTimeoutException_StaysATimeoutAndIsNotRetried()
    {
        var error = RetryReason.Classify(ForwarderError.RequestTimedOut, new TaskCanceledException("The activity timed out."));

        Assert.Equal(ForwarderError.RequestTimedOut, error);
        Assert.Null(RetryReason.For(true, false, error, false, false));
    }

    [Theory]
    [InlineData(ForwarderError.ResponseBodyDestination)]
    [InlineData(ForwarderError.RequestCanceled)]
    [InlineData(ForwarderError.None)]
    public void Classify_OtherErrors_Unchanged(ForwarderError error)
    {
        Assert.Equal(error, RetryReason.Classify(error, new TimeoutException()));
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
