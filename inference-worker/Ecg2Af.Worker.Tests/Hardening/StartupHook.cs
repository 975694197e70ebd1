using System.Runtime.Loader;

#pragma warning disable CA1050 // The runtime looks for a type named StartupHook in the global namespace.

/// <summary>
/// The .NET startup hook (<c>DOTNET_STARTUP_HOOKS</c>) of <see cref="Ecg2Af.Worker.Tests.Hardening.FaultInjection"/>:
/// lets the worker process resolve this test assembly (and what it references) from the test's output folder, so
/// ASP.NET can load it as a hosting startup assembly.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        var folder = Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!;
        var self = typeof(StartupHook).Assembly;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            if (name.Name == self.GetName().Name)
            {
                return self;
            }

            var path = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
        };
    }
}
