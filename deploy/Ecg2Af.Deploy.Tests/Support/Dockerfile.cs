using System.Text.RegularExpressions;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>A Dockerfile read into stages and instructions (line continuations joined, comments dropped).</summary>
public sealed partial class Dockerfile
{
    private Dockerfile(string path, IReadOnlyList<Stage> stages)
    {
        Path = path;
        Stages = stages;
    }

    public string Path { get; }

    public IReadOnlyList<Stage> Stages { get; }

    public Stage Final => Stages[^1];

    public static Dockerfile Load(string path)
    {
        var stages = new List<Stage>();
        var logical = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.TrimEnd();
            if (logical.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (logical.Length > 0 && line.TrimStart().StartsWith('#'))
            {
                continue; // a comment inside a continued instruction
            }

            if (line.EndsWith('\\'))
            {
                logical += line[..^1] + " ";
                continue;
            }

            logical += line;
            var match = InstructionLine().Match(logical.Trim());
            logical = "";
            if (!match.Success)
            {
                throw new InvalidOperationException($"{path}: cannot read '{line}'");
            }

            var instruction = new Instruction(match.Groups[1].Value.ToUpperInvariant(), match.Groups[2].Value.Trim());
            if (instruction.Keyword == "FROM")
            {
                var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                stages.Add(new Stage(parts[0], parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null));
            }
            else if (stages.Count == 0)
            {
                throw new InvalidOperationException($"{path}: {instruction.Keyword} before FROM");
            }
            else
            {
                stages[^1].Instructions.Add(instruction);
            }
        }

        return new Dockerfile(path, stages);
    }

    [GeneratedRegex(@"^([A-Za-z]+)\s+(.*)$", RegexOptions.Singleline)]
    private static partial Regex InstructionLine();

    public sealed record Instruction(string Keyword, string Arguments)
    {
        /// <summary>Whitespace-separated words, or the items of a JSON (exec form) array.</summary>
        public IReadOnlyList<string> Words => Arguments.StartsWith('[')
            ? System.Text.Json.JsonSerializer.Deserialize<string[]>(Arguments)!
            : Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public sealed class Stage(string image, string? name)
    {
        public string Image { get; } = image;

        public string? Name { get; } = name;

        public List<Instruction> Instructions { get; } = [];

        public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

        /// <summary>COPY instructions: flags (--from, --chmod), sources and destination.</summary>
        public IEnumerable<Copy> Copies() => All("COPY").Select(i =>
        {
            var words = i.Words;
            var flags = words.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToList();
            var rest = words.Skip(flags.Count).ToList();
            var from = flags.FirstOrDefault(f => f.StartsWith("--from=", StringComparison.Ordinal))?["--from=".Length..];
            return new Copy(from, rest[..^1], rest[^1]);
        });

        /// <summary>ENV key=value pairs (later ones win).</summary>
        public IReadOnlyDictionary<string, string> Environment()
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var instruction in All("ENV"))
            {
                foreach (var word in instruction.Words)
                {
                    var eq = word.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new InvalidOperationException($"ENV '{instruction.Arguments}': use the key=value form");
                    }

                    env[word[..eq]] = word[(eq + 1)..];
                }
            }

            return env;
        }
    }

    public sealed record Copy(string? From, IReadOnlyList<string> Sources, string Destination);
}
