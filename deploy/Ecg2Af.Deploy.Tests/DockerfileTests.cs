using System.Text.RegularExpressions;
using System.Xml.Linq;
using Ecg2Af.Deploy.Tests.Support;
using Ecg2Af.LocalCluster;

namespace Ecg2Af.Deploy.Tests;

/// <summary>
/// The Dockerfiles checked without a Docker engine: multi-stage, restore before sources, every project the
/// published one references copied before restore, sources present and not left out by .dockerignore, a non-root
/// final stage with a working health probe, and the CUDA image matching ONNX Runtime's CUDA provider.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Files => new() { "gateway.Dockerfile", "worker.Dockerfile", "worker-cuda.Dockerfile" };

    private static string Folder => Path.Combine(RepositoryLayout.Root, "deploy", "docker");

    [Theory]
    [MemberData(nameof(Files))]
    public void Build_PublishedProject_EveryReferencedProjectRestoredThenCopied(string file)
    {
        var dockerfile = Dockerfile.Load(Path.Combine(Folder, file));
        Assert.True(dockerfile.Stages.Count >= 2, "multi-stage");
        var build = dockerfile.Stages[0];
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", build.Image);

        var runs = build.All("RUN").Select(r => r.Arguments).ToList();
        var restore = runs.Single(r => r.StartsWith("dotnet restore ", StringComparison.Ordinal));
        var publish = runs.Single(r => r.StartsWith("dotnet publish ", StringComparison.Ordinal));
        Assert.Contains("--no-restore", publish, StringComparison.Ordinal);
        var project = restore.Split(' ')[2];
        Assert.Equal(project, publish.Split(' ')[2]);

        // Restore and publish agree on everything that changes the restore (runtime, ONNX Runtime flavour).
        Assert.Equal(Flags(restore), Flags(publish));

        // Before restore: the root props files and every project file in the reference closure; before publish, their folders.
        var copies = build.Instructions.Where(i => i.Keyword is "COPY" or "RUN").ToList();
        var restoreAt = copies.FindIndex(i => i.Arguments == restore);
        var publishAt = copies.FindIndex(i => i.Arguments == publish);
        var sourcesBeforeRestore = copies.Take(restoreAt).Where(i => i.Keyword == "COPY").SelectMany(i => i.Words.SkipLast(1)).ToHashSet();
        var sourcesBeforePublish = copies.Take(publishAt).Where(i => i.Keyword == "COPY").SelectMany(i => i.Words.SkipLast(1)).ToHashSet();
        Assert.Subset(sourcesBeforeRestore, new HashSet<string> { "global.json", "Directory.Build.props", "Directory.Packages.props" });
        foreach (var reference in ProjectClosure(project))
        {
            Assert.Contains(reference, sourcesBeforeRestore);
            Assert.Contains(Path.GetDirectoryName(reference) + "/", sourcesBeforePublish);
        }

        // The image starts the assembly the publish produced.
        var entrypoint = dockerfile.Final.All("ENTRYPOINT").Single().Words;
        Assert.Equal(["dotnet", Path.GetFileNameWithoutExtension(project) + ".dll"], entrypoint);
        Assert.Contains(dockerfile.Final.Copies(), c => c.From == build.Name && c.Sources.SequenceEqual(["/app"]));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Sources_EveryCopy_ExistsInTheBuildContextAndIsNotDockerIgnored(string file)
    {
        Assert.Empty(MissingSources(Dockerfile.Load(Path.Combine(Folder, file)), RepositoryLayout.Root));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void FinalStage_NonRootUserAndHealthCheckOnTheListeningPort(string file)
    {
        var dockerfile = Dockerfile.Load(Path.Combine(Folder, file));
        var final = dockerfile.Final;
        var user = final.All("USER").Last().Arguments;
        Assert.True(user is "$APP_UID" or "app" || (int.TryParse(user, out var uid) && uid != 0), $"USER {user}");
        if (user == "$APP_UID" && !final.Image.StartsWith("mcr.microsoft.com/dotnet/", StringComparison.Ordinal))
        {
            Assert.True(final.Environment().TryGetValue("APP_UID", out var id) && id != "0", "APP_UID is set where the base image does not");
        }

        var port = ListeningPort(final.Environment().ToDictionary(e => e.Key, e => (string?)e.Value));
        Assert.Equal([port.ToString(System.Globalization.CultureInfo.InvariantCulture)], final.All("EXPOSE").Single().Words);
        var health = final.All("HEALTHCHECK").Single().Arguments;
        var command = Regex.Match(health, @"CMD (\[.*\])$").Groups[1].Value;
        AssertHealthProbe(dockerfile, System.Text.Json.JsonSerializer.Deserialize<string[]>(command)!, port, file);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Environment_FinalStage_EveryNameIsAConfigurationKeyTheServiceReads(string file)
    {
        var dockerfile = Dockerfile.Load(Path.Combine(Folder, file));
        var configuration = ConfigurationOf(dockerfile);
        foreach (var (name, value) in dockerfile.Final.Environment())
        {
            Assert.Null(configuration.Check(name, value));
        }
    }

    [Fact]
    public void Flavours_CpuAndCudaWorkers_BuildTheMatchingOnnxRuntimePackage()
    {
        Assert.Contains("-p:OrtFlavor=Cpu", Dockerfile.Load(Path.Combine(Folder, "worker.Dockerfile")).Stages[0].All("RUN").Last().Arguments, StringComparison.Ordinal);
        var cuda = Dockerfile.Load(Path.Combine(Folder, "worker-cuda.Dockerfile"));
        Assert.Contains("-p:OrtFlavor=Gpu", cuda.Stages[0].All("RUN").Last().Arguments, StringComparison.Ordinal);
        Assert.Equal("Cpu", Dockerfile.Load(Path.Combine(Folder, "worker.Dockerfile")).Final.Environment()["Model__Runtime__ExecutionProvider"]);
        Assert.Equal("Auto", cuda.Final.Environment()["Model__Runtime__ExecutionProvider"]);
    }

    [Fact]
    public void CudaImage_BaseImage_MatchesTheCudaMajorThatOnnxRuntimesCudaProviderLinks()
    {
        // The worker is built with the GPU flavour by default; its CUDA provider names the CUDA libraries it links.
        var provider = Path.Combine(Path.GetDirectoryName(RepositoryLayout.WorkerDll)!, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so");
        Assert.True(File.Exists(provider), $"{provider} missing: build the worker with the default OrtFlavor=Gpu");
        var linked = LinkedMajors(provider);
        Assert.True(linked.TryGetValue("cudart", out var cudart), string.Join(",", linked));
        Assert.Equal(cudart, linked["cublas"]);

        var image = Dockerfile.Load(Path.Combine(Folder, "worker-cuda.Dockerfile")).Final.Image;
        var tag = Regex.Match(image, @"^nvidia/cuda:(?<major>\d+)\.\d+(\.\d+)?-cudnn(?<cudnn>\d*)-runtime-ubuntu(?<ubuntu>[\d.]+)$");
        Assert.True(tag.Success, $"{image} is not an nvidia/cuda <version>-cudnn-runtime-ubuntu image");
        Assert.Equal(cudart, tag.Groups["major"].Value);
        Assert.Equal("24.04", tag.Groups["ubuntu"].Value); // the same Ubuntu as the ASP.NET Core runtime copied in
    }

    internal static IReadOnlyList<string> MissingSources(Dockerfile dockerfile, string context)
    {
        var ignore = new DockerIgnore(Path.Combine(context, ".dockerignore"));
        var problems = new List<string>();
        foreach (var copy in dockerfile.Stages.SelectMany(s => s.Copies()).Where(c => c.From is null))
        {
            foreach (var source in copy.Sources)
            {
                var path = Path.Combine(context, source);
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    problems.Add($"{source}: not in the build context");
                }
                else if (ignore.Excludes(source))
                {
                    problems.Add($"{source}: left out by .dockerignore");
                }
                else if (Directory.Exists(path) && !Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                             .Any(f => !ignore.Excludes(Path.GetRelativePath(context, f))))
                {
                    problems.Add($"{source}: .dockerignore leaves nothing of it");
                }
            }
        }

        return problems;
    }

    /// <summary>The port in <c>Urls</c> (or ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS) of a service's environment.</summary>
    internal static int ListeningPort(IReadOnlyDictionary<string, string?> environment)
    {
        var urls = environment.FirstOrDefault(e => e.Key.Equals("Urls", StringComparison.OrdinalIgnoreCase) || e.Key == "ASPNETCORE_URLS").Value;
        if (urls is not null)
        {
            return int.Parse(Regex.Match(urls, @":(\d+)/?$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return int.Parse(environment["ASPNETCORE_HTTP_PORTS"]!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The probe is the script the final stage installs, asking a health endpoint the service maps, on its port.</summary>
    internal static void AssertHealthProbe(Dockerfile dockerfile, IReadOnlyList<string> command, int port, string what)
    {
        Assert.Equal("healthcheck", command[0]);
        var installed = dockerfile.Final.Copies().Single(c => c.Destination == "/usr/local/bin/healthcheck");
        var script = Path.Combine(RepositoryLayout.Root, installed.Sources.Single());
        Assert.StartsWith("#!/usr/bin/env bash", File.ReadAllText(script), StringComparison.Ordinal);
        Assert.Contains(command[1], new[] { "/health/ready", "/health/live" });
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), command[2]);
        var program = ConfigurationOf(dockerfile).Name == "gateway" ? "gateway/Ecg2Af.Gateway" : "inference-worker/Ecg2Af.Worker";
        Assert.True(File.ReadAllText(Path.Combine(RepositoryLayout.Root, program, "ServiceDefaults.cs")).Contains($"MapHealthChecks(\"{command[1]}\"", StringComparison.Ordinal),
            $"{what}: {command[1]} is not a health endpoint of {program}");
    }

    internal static ServiceConfiguration ConfigurationOf(Dockerfile dockerfile) =>
        dockerfile.Final.All("ENTRYPOINT").Single().Words[^1] == "Ecg2Af.Gateway.dll" ? ServiceConfiguration.Gateway : ServiceConfiguration.Worker;

    private static string Flags(string command) =>
        string.Join(' ', command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w.StartsWith("-r", StringComparison.Ordinal) || w == "linux-x64" || w.StartsWith("-p:", StringComparison.Ordinal)).Order());

    /// <summary>The project and every project it references, transitively, as repository-relative paths.</summary>
    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(Path.Combine(RepositoryLayout.Root, current))!;
            foreach (var reference in XDocument.Load(Path.Combine(RepositoryLayout.Root, current)).Descendants("ProjectReference"))
            {
                pending.Push(Path.GetRelativePath(RepositoryLayout.Root, Path.GetFullPath(Path.Combine(folder, reference.Attribute("Include")!.Value))));
            }
        }

        return seen;
    }

    /// <summary>The major versions of libcudart, libcublas and libcudnn named in a shared library's dynamic section.</summary>
    private static Dictionary<string, string> LinkedMajors(string library)
    {
        // The dynamic string table sits near the start of the file; 16 MB covers it without reading ~280 MB.
        using var stream = File.OpenRead(library);
        var buffer = new byte[Math.Min(stream.Length, 16 << 20)];
        stream.ReadExactly(buffer);
        var text = System.Text.Encoding.Latin1.GetString(buffer);
        return LinkedLibrary().Matches(text).GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.First().Groups[2].Value);
    }

    [GeneratedRegex(@"lib(cudart|cublas|cudnn)\.so\.(\d+)")]
    private static partial Regex LinkedLibrary();
}
