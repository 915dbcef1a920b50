using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace ExportsPS.Module.Tests;

/// <summary>A PowerShell host that answers confirmation prompts (-Confirm) the way a test says, and keeps
/// each prompt's message: what an admin at a console would see and answer.</summary>
public sealed class AnsweringHost(Func<string, string> answer) : PSHost
{
    readonly AnsweringUserInterface _ui = new(answer);

    public IReadOnlyList<string> Prompts => _ui.Prompts;
    public override string Name => "ExportsPS.Tests.AnsweringHost";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void SetShouldExit(int exitCode) { }
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }

    sealed class AnsweringUserInterface(Func<string, string> answer) : PSHostUserInterface
    {
        public List<string> Prompts { get; } = new();
        public override PSHostRawUserInterface? RawUI => null;

        /// <summary>Picks the choice whose label (without its '&amp;' hotkey marker) the test names, e.g. "Yes" or "No".</summary>
        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Prompts.Add(message);
            var wanted = answer(message);
            for (var i = 0; i < choices.Count; i++)
                if (choices[i].Label.Replace("&", "") == wanted) return i;
            throw new InvalidOperationException($"no choice '{wanted}' among {string.Join(", ", choices.Select(c => c.Label))}");
        }

        public override string ReadLine() => throw new NotSupportedException();
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();
        public override void Write(string value) { }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { }
        public override void WriteLine(string value) { }
        public override void WriteErrorLine(string value) { }
        public override void WriteDebugLine(string message) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
    }
}
