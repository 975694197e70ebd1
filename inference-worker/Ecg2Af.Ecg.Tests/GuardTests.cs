using System.Xml;

namespace Ecg2Af.Ecg.Tests;

/// <summary>
/// Only parser refusals become <see cref="EcgFormatException"/> (a 4xx for the client); a fault of the service itself
/// leaves <see cref="EcgReader"/> unchanged, so the host answers 500 without its text.
/// </summary>
public sealed class GuardTests
{
    [Fact]
    public void Guard_ParserRefusal_BecomesMalformed()
    {
        var e = Assert.Throws<EcgFormatException>(() => EcgReader.Guard<int>(() => throw new XmlException("Unexpected end of file at line 3.")));

        Assert.Equal(EcgErrorKind.Malformed, e.Kind);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(NullReferenceException))]
    [InlineData(typeof(IndexOutOfRangeException))]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(OutOfMemoryException))]
    public void Guard_FaultOfTheService_IsNotTheFilesFault(Type type)
    {
        var fault = (Exception)Activator.CreateInstance(type, "internal detail 7f3a")!;

        var thrown = Assert.Throws(type, () => EcgReader.Guard<int>(() => throw fault));

        Assert.Same(fault, thrown);
    }
}
