; Inno Setup script for SKP Returns on Windows: a per-user installer that needs no
; administrator rights. Build the folder first (pyinstaller build_installer.spec), then:
;
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 resources\installer\skp-returns.iss
;
; It writes dist\SKP-Returns-<version>-setup.exe. The installer copies dist\skp-returns\ to
; %LOCALAPPDATA%\Programs\SKP Returns, adds Start-menu shortcuts, and checks the installation
; with `skp-returns.exe self-test` (a failure is shown with where to look). Uninstalling removes the program, never the user's
; database or logs (they live in %LOCALAPPDATA%\RBK\skp-returns).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; The AppId identifies the product to Windows across versions: never change it.
AppId={{FEF78E9A-9B40-4FDF-B73F-962A798554EA}
AppName=SKP Returns
AppVersion={#AppVersion}
AppPublisher=Royal Borough of Kingston upon Thames
AppComments=Performance returns for the Safer Kingston Partnership
; Per user, without administrator rights: {autopf} is %LOCALAPPDATA%\Programs for such installs.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\SKP Returns
DefaultGroupName=SKP Returns
DisableProgramGroupPage=yes
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=SKP-Returns-{#AppVersion}-setup
SetupIconFile=resources\icons\skp-returns.ico
UninstallDisplayIcon={app}\skp-desktop.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Files]
; A new version replaces the whole folder: nothing of an older one lingers in _internal.
Source: "dist\skp-returns\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\SKP Returns"; Filename: "{app}\skp-desktop.exe"; Comment: "Performance returns for the Safer Kingston Partnership"
Name: "{autoprograms}\SKP Returns (read-only, for auditors)"; Filename: "{app}\skp-desktop.exe"; Parameters: "--read-only"

[Run]
Filename: "{app}\skp-desktop.exe"; Description: "Open SKP Returns"; Flags: nowait postinstall skipifsilent

[Code]
// The installed copy checks itself; a failure is said at once, with where to look.
procedure CurStepChanged(CurStep: TSetupStep);
var
  ResultCode: Integer;
begin
  if CurStep = ssPostInstall then
  begin
    WizardForm.StatusLabel.Caption := 'Checking the installation...';
    if Exec(ExpandConstant('{app}\skp-returns.exe'), 'self-test', '', SW_HIDE,
            ewWaitUntilTerminated, ResultCode) and (ResultCode <> 0) then
      MsgBox('SKP Returns was installed, but its self-test failed. To see why, open a command ' +
             'prompt in ' + ExpandConstant('{app}') + ' and run:' + #13#10#13#10 +
             '  skp-returns.exe self-test' + #13#10#13#10 + 'The log is in ' +
             ExpandConstant('{localappdata}') + '\RBK\skp-returns\Logs.', mbError, MB_OK);
  end;
end;
