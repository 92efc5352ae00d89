/**
 * Norwegian bokmål for the texts bpmn-js, diagram-js and the properties panel show most.
 * Anything not listed stays English (bpmn-js' default), with {placeholders} filled in.
 */

const NB = {
  // palette, context pad, popup menu
  'Activate hand tool': 'Flytt visningen (hånd)',
  'Activate lasso tool': 'Merk flere (lasso)',
  'Activate create/remove space tool': 'Lag eller fjern plass',
  'Activate global connect tool': 'Koble sammen',
  'Create start event': 'Ny starthendelse',
  'Create intermediate/boundary event': 'Ny mellom- eller grensehendelse',
  'Create end event': 'Ny slutthendelse',
  'Create gateway': 'Ny port (gateway)',
  'Create task': 'Ny oppgave',
  'Create expanded sub-process': 'Ny utvidet delprosess',
  'Create pool/participant': 'Nytt basseng/deltaker',
  'Create data object reference': 'Ny dataobjektreferanse',
  'Create data store reference': 'Ny datalagerreferanse',
  'Create group': 'Ny gruppe',
  'Append end event': 'Legg til slutthendelse',
  'Append gateway': 'Legg til port (gateway)',
  'Append task': 'Legg til oppgave',
  'Append intermediate/boundary event': 'Legg til mellomhendelse',
  'Append timer intermediate catch event': 'Legg til tidtaker',
  'Append message intermediate catch event': 'Legg til meldingshendelse',
  'Append signal intermediate catch event': 'Legg til signalhendelse',
  'Append conditional intermediate catch event': 'Legg til betingelseshendelse',
  'Append receive task': 'Legg til mottaksoppgave',
  'Append compensation activity': 'Legg til kompensasjonsaktivitet',
  'Add text annotation': 'Legg til merknad',
  'Add lane above': 'Legg til lane over',
  'Add lane below': 'Legg til lane under',
  'Divide into two lanes': 'Del i to lanes',
  'Divide into three lanes': 'Del i tre lanes',
  'Change element': 'Endre elementtype',
  'Connect to other element': 'Koble til et annet element',
  'Connect using association': 'Koble med assosiasjon',
  'Connect using data input association': 'Koble med datainndata',
  'Delete': 'Slett',
  'Align elements': 'Juster elementer',
  'Distribute elements horizontally': 'Fordel vannrett',
  'Distribute elements vertically': 'Fordel loddrett',
  'Search in diagram': 'Søk i diagrammet',
  'Toggle non-interrupting': 'Avbrytende / ikke-avbrytende',
  'Parallel multi-instance': 'Parallell flerinstans',
  'Sequential multi-instance': 'Sekvensiell flerinstans',
  'Loop': 'Løkke',
  'Open {element}': 'Åpne {element}',

  // properties panel (standard BPMN groups)
  'General': 'Generelt',
  'Name': 'Navn',
  'ID': 'ID',
  'Documentation': 'Dokumentasjon',
  'Element documentation': 'Veiledning (dokumentasjon)',
  'Process documentation': 'Prosessdokumentasjon',
  'Process name': 'Prosessnavn',
  'Process ID': 'Prosess-ID',
  'Executable': 'Kjørbar',
  'Timer': 'Tidtaker',
  'Type': 'Type',
  'Value': 'Verdi',
  'Date': 'Dato',
  'Duration': 'Varighet',
  'Cycle': 'Syklus',
  '<none>': '<ingen>',
  'Multi-instance': 'Flerinstans',
  'Loop cardinality': 'Antall ganger',
  'Completion condition': 'Ferdigbetingelse',
  'Message': 'Melding',
  'Signal': 'Signal',
  'Error': 'Feil',
  'Escalation': 'Eskalering',
  'Link': 'Lenke',
  'Compensation': 'Kompensasjon',
  'Element must have an unique ID.': 'Elementet må ha en unik ID.',
  'ID must not be empty.': 'ID kan ikke være tom.',
  'ID must not contain spaces.': 'ID kan ikke inneholde mellomrom.',
  'ID must be a valid QName.': 'ID må være et gyldig QName (bokstaver, tall, _ og -).',
  'ID must not contain prefix.': 'ID kan ikke ha prefiks.',
  'Select an element to edit its properties.': 'Velg et element for å endre egenskapene.',
  'Multiple elements are selected. Select a single one to edit its properties.':
    'Flere elementer er valgt. Velg ett for å endre egenskapene.'
};

export function translate(template, replacements) {
  replacements = replacements || {};
  const text = Object.prototype.hasOwnProperty.call(NB, template) ? NB[template] : template;
  return text.replace(/{([^}]+)}/g, function(_, key) {
    return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : '{' + key + '}';
  });
}

export default {
  translate: [ 'value', translate ]
};
