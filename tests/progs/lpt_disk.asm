; SPDX-License-Identifier: GPL-2.0-or-later
;
; LPT disk: a raw hard-disk image that prints through the parallel port the
; two ways PC software does, and reports each step on COM1:
;
;   VSA-LPT-TEST            COM1 works
;   [lpt] bda ok            SeaBIOS found LPT1: BDA 0040:0008 = 378h and
;                           the equipment word counts one printer
;   [lpt] waiting for COM1  then it waits (HLT between polls) for one byte
;                           on COM1, so a test can attach to the serial port
;                           first; the byte is echoed:
;   [lpt] got <byte>
;   [lpt] int17 ok          INT 17h AH=01h (init) and AH=02h (status) report
;                           a ready printer (AH = 90h), and AH=00h printed
;                           every byte of BIOS_TEXT without an error bit
;   [lpt] irq ok            direct port I/O: wait for not-BUSY, data, strobe,
;                           then wait (HLT) for IRQ 7 from the acknowledge,
;                           one interrupt per byte of PORT_TEXT
;   VSA-LPT-OK              then power off ("Shutdown" to port 8900h)
;
; A failing step prints "VSA-LPT-FAIL <step>" on COM1 and powers off.
; The printer (the LPT backend) receives BIOS_TEXT then PORT_TEXT.
;
; Image: 2 cylinders x 16 heads x 63 sectors (1008 KiB), like boot_disk.img;
; sector 0 loads sectors 1-3 with INT 13h.

bits 16
org 7C00h

%include "com1.asm"

LPT1            equ 378h
LPT_STATUS      equ LPT1 + 1
LPT_CONTROL     equ LPT1 + 2
BDA_LPT1        equ 408h
BDA_EQUIPMENT   equ 410h
TICKS           equ 46Ch
IRQ7_VECTOR     equ 0Fh * 4
STAGE2_SECTORS  equ 3
DISK_SECTORS    equ 2 * 16 * 63

%macro SAY 1                            ; a line on COM1
        call say_inline
        db %1, 0
%endmacro

%macro FAIL 1
        call fail_inline
        db %1, 0
%endmacro

start:
        jmp 0:main                      ; some BIOSes enter at 07C0:0000
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        sti
        mov ax, 0200h + STAGE2_SECTORS  ; read sectors 1-3 behind us
        mov cx, 0002h
        xor dh, dh
        mov bx, 7E00h
        int 13h
        jc $                            ; nothing to report with yet
        ; 115200 8N1 as com1_init, but the FIFOs stay off: enabling them
        ; (or resetting them) would drop a byte the host sent early, which
        ; the receive buffer register holds until we look.
        mov dx, COM1 + 3
        mov al, 80h
        out dx, al
        mov dx, COM1
        mov al, 1
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 03h
        out dx, al
        jmp stage2

; say_inline: the string after the CALL to COM1.
say_inline:
        push si
        push bp
        mov bp, sp
        mov si, [bp + 4]
        call puts
        mov [bp + 4], si
        pop bp
        pop si
        ret

; puts: the NUL-terminated string at SI to COM1; SI ends past the NUL.
puts:
        push ax
        push dx
.next:  lodsb
        test al, al
        jz .done
        mov ah, al
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 20h
        jz .wait
        mov al, ah
        mov dx, COM1
        out dx, al
        jmp .next
.done:  pop dx
        pop ax
        ret

fail_inline:
        SAY "VSA-LPT-FAIL "
        pop si
        call puts
        SAY `\n`
        jmp power_off

        times 510 - ($ - $$) db 0
        dw 0AA55h

; ============================================================================
stage2:
        SAY `VSA-LPT-TEST\n`

        ; --- the BIOS found the port --------------------------------------
        cmp word [BDA_LPT1], LPT1
        je .bda_port
        FAIL "bda-port"
.bda_port:
        mov ax, [BDA_EQUIPMENT]
        shr ax, 14
        cmp ax, 1
        je .bda_ok
        FAIL "bda-equipment"
.bda_ok:
        SAY `[lpt] bda ok\n`

        ; --- a byte from the host on COM1 -----------------------------------
        SAY `[lpt] waiting for COM1\n`
.poll:  mov dx, COM1 + 5
        in al, dx
        test al, 1                      ; data ready
        jnz .got
        hlt                             ; the next timer tick
        jmp .poll
.got:   mov dx, COM1
        in al, dx
        mov [got_byte], al
        SAY "[lpt] got "
        mov si, got_byte
        call puts
        SAY `\n`

        ; --- INT 17h --------------------------------------------------------
        mov ah, 01h                     ; initialise printer 0
        xor dx, dx
        int 17h
        mov ah, 02h                     ; status
        xor dx, dx
        int 17h
        cmp ah, 90h                     ; not busy, selected
        je .status_ok
        FAIL "int17-status"
.status_ok:
        mov si, bios_text
.bios_next:
        lodsb
        test al, al
        jz .bios_done
        mov ah, 00h
        xor dx, dx
        int 17h
        test ah, 29h                    ; time-out, I/O error, out of paper
        jz .bios_next
        FAIL "int17-print"
.bios_done:
        SAY `[lpt] int17 ok\n`

        ; --- port I/O with IRQ 7 ----------------------------------------------
        cli
        mov word [IRQ7_VECTOR], irq7_handler
        mov word [IRQ7_VECTOR + 2], 0
        in al, 21h
        and al, 7Fh                     ; unmask IRQ 7 at the master 8259
        out 21h, al
        mov dx, LPT_CONTROL
        mov al, 1Ch                     ; IRQ enable, nINIT high, SELECT IN
        out dx, al
        sti
        mov si, port_text
        xor bx, bx                      ; bytes sent = interrupts expected
.port_next:
        lodsb
        test al, al
        jz .port_done
        mov ah, al
        mov dx, LPT_STATUS
.busy:  in al, dx
        test al, 80h                    ; not BUSY
        jz .busy
        mov dx, LPT1
        mov al, ah
        out dx, al
        mov dx, LPT_CONTROL
        mov al, 1Dh                     ; strobe ...
        out dx, al
        mov al, 1Ch                     ; ... released
        out dx, al
        inc bx
        mov edi, [TICKS]                ; a second at most for the interrupt
.wait:  cli
        cmp [irq_count], bx
        jae .acked
        mov eax, [TICKS]
        sub eax, edi
        cmp eax, 18
        ja .no_irq
        sti                             ; STI; HLT: no interrupt slips between
        hlt
        jmp .wait
.acked: sti
        jmp .port_next
.no_irq:
        sti
        FAIL "irq7"
.port_done:
        cmp [irq_count], bx
        je .irq_ok
        FAIL "irq7-count"
.irq_ok:
        SAY `[lpt] irq ok\n`
        SAY `VSA-LPT-OK\n`

power_off_routine

irq7_handler:
        push ax
        inc word [cs:irq_count]
        mov al, 20h                     ; EOI to the master 8259
        out 20h, al
        pop ax
        iret

irq_count:      dw 0
got_byte:       db 0, 0
bios_text:      db `INT17: hello, printer\r\n`, 0
port_text:      db `PORTIO: direct, IRQ 7\r\n`, 0

        times (1 + STAGE2_SECTORS) * 512 - ($ - $$) db 0
        times DISK_SECTORS * 512 - ($ - $$) db 0
