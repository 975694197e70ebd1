using Ecg2Af.Worker.Tests.Hardening;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

[assembly: HostingStartup(typeof(FaultInjection))]

namespace Ecg2Af.Worker.Tests.Hardening;

/// <summary>
/// Injects an internal failure into a real worker process, with no test code in the worker: the process is started
/// with this assembly as a .NET startup hook (<see cref="StartupHook"/>, which lets the runtime find the test assembly)
/// and as an ASP.NET hosting startup assembly. A request carrying <see cref="Header"/> then fails inside its endpoint:
/// reading its form throws an exception whose text (<see cref="Secret"/>) must never reach the client.
/// </summary>
internal sealed class FaultInjection : IHostingStartup
{
    public const string Header = "X-Test-Inject-Fault";
    public const string Secret = "injected-internal-fault-3b9d: connection string Password=hunter2";

    /// <summary>The environment that loads this into a worker.</summary>
    public static Dictionary<string, string> Environment() => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = typeof(FaultInjection).Assembly.Location,
        ["ASPNETCORE_HOSTINGSTARTUPASSEMBLIES"] = typeof(FaultInjection).Assembly.GetName().Name!,
    };

    public void Configure(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter, Filter>());

    private sealed class Filter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (context.Request.Headers.ContainsKey(Header))
                {
                    context.Features.Set<IFormFeature>(new FailingForm());
                }

                return following(context);
            });
            next(app);
        };
    }

    /// <summary>A form feature whose reading fails the way a bug in the service would.</summary>
    private sealed class FailingForm : IFormFeature
    {
        public bool HasFormContentType => true;

        public IFormCollection? Form { get; set; }

        public IFormCollection ReadForm() => throw new InvalidOperationException(Secret);

        public Task<IFormCollection> ReadFormAsync(CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);
    }
}
